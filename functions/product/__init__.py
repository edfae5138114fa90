"""Product in 3D: camera poses, the nerfstudio dataset, and the turntable orbit around the object."""

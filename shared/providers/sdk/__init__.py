"""Building the official SDK clients (google-genai, openai, replicate) and translating their errors.

Every SDK is imported inside these functions, never at module import: a machine without an SDK, or
without a key, imports the whole project fine and only fails (with a clear message) when a cloud
provider is actually chosen."""

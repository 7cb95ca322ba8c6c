# Error symptoms
RuntimeError: Shared memory already exists

# Solutions
- **Use unique names**: Employ descriptive, unique topic names
- **Clean up resources**: Remove existing shared memory segments
- **Check running processes**: Verify no duplicate publishers exist

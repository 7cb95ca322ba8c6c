# Error symptoms
RuntimeError: Failed to create shared memory

# Common causes and solutions
- **Insufficient permissions**: Run with appropriate privileges
- **Memory shortage**: Check system memory availability
- **Name conflicts**: Use unique topic names

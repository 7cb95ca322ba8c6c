# Error symptoms
data, success = subscriber.subscribe()  # success = False

# Common causes and solutions
- **No publisher**: Ensure publisher is running and publishing data
- **Timing issues**: Publisher may not have sent data yet
- **Topic name mismatch**: Verify exact topic name matching

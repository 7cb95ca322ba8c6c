# Test publisher/subscriber independently
import shm_pub_sub

# Test publisher only
pub = shm_pub_sub.Publisher("test_topic", 0, 3)
for i in range(10):
    pub.publish(i)
    print(f"Published: {i}")

# Test subscriber only (run in separate process)
sub = shm_pub_sub.Subscriber("test_topic", 0)
for i in range(10):
    data, success = sub.subscribe()
    print(f"Received: {data}, Success: {success}")

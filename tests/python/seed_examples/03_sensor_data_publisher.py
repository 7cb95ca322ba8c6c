import shm_pub_sub
import time
import random

# Create temperature sensor publisher
temp_pub = shm_pub_sub.Publisher("temperature_sensor", 0.0, 5)

# Publish sensor readings
for i in range(100):
    temperature = 20.0 + random.uniform(-5.0, 15.0)
    temp_pub.publish(temperature)
    print(f"Published temperature: {temperature:.2f}Â°C")
    time.sleep(0.1)  # 10Hz publishing rate

import shm_pub_sub
import time
import random
import threading

class RobotSensorNetwork:
    def __init__(self):
        # Create publishers for different sensors
        self.lidar_pub = shm_pub_sub.Publisher("lidar_distance", 0.0, 5)
        self.camera_pub = shm_pub_sub.Publisher("camera_fps", 0.0, 3)
        self.imu_pub = shm_pub_sub.Publisher("imu_acceleration", 0.0, 10)
        
        # Create control system subscriber
        self.control_sub = shm_pub_sub.Subscriber("control_command", 0)
        
    def simulate_lidar(self):
        """Simulate LIDAR sensor readings"""
        while True:
            distance = random.uniform(0.1, 10.0)  # 10cm to 10m range
            self.lidar_pub.publish(distance)
            time.sleep(0.1)  # 10Hz
    
    def simulate_camera(self):
        """Simulate camera frame rate monitoring"""
        while True:
            fps = random.uniform(25.0, 35.0)  # 25-35 FPS
            self.camera_pub.publish(fps)
            time.sleep(0.033)  # ~30Hz
    
    def simulate_imu(self):
        """Simulate IMU acceleration readings"""
        while True:
            acceleration = random.uniform(-2.0, 2.0)  # Â±2g
            self.imu_pub.publish(acceleration)
            time.sleep(0.01)  # 100Hz
    
    def start_sensors(self):
        """Start all sensor simulation threads"""
        sensors = [
            threading.Thread(target=self.simulate_lidar),
            threading.Thread(target=self.simulate_camera),
            threading.Thread(target=self.simulate_imu)
        ]
        
        for sensor in sensors:
            sensor.daemon = True
            sensor.start()
        
        return sensors

# Usage
robot = RobotSensorNetwork()
sensor_threads = robot.start_sensors()

# Keep main thread alive
for thread in sensor_threads:
    thread.join()

import shm_pub_sub
import time
import statistics
import threading
from collections import deque

class DataAnalytics:
    def __init__(self):
        self.data_buffer = deque(maxlen=100)
        self.analytics_pub = shm_pub_sub.Publisher("analytics_result", 0.0, 5)
        self.data_sub = shm_pub_sub.Subscriber("sensor_data", 0.0)
        
    def collect_data(self):
        """Continuously collect sensor data"""
        while True:
            data, success = self.data_sub.subscribe()
            if success:
                self.data_buffer.append(data)
            time.sleep(0.01)
    
    def analyze_data(self):
        """Perform real-time analytics"""
        while True:
            if len(self.data_buffer) >= 10:
                # Calculate moving average
                recent_data = list(self.data_buffer)[-10:]
                moving_avg = statistics.mean(recent_data)
                
                # Publish analytics result
                self.analytics_pub.publish(moving_avg)
                
                print(f"ğŸ“Š Analytics: Moving average = {moving_avg:.3f}")
            
            time.sleep(0.1)
    
    def start_analytics(self):
        """Start analytics threads"""
        threads = [
            threading.Thread(target=self.collect_data),
            threading.Thread(target=self.analyze_data)
        ]
        
        for thread in threads:
            thread.daemon = True
            thread.start()
        
        return threads

# Usage
analytics = DataAnalytics()
analytics_threads = analytics.start_analytics()

# Keep running
for thread in analytics_threads:
    thread.join()

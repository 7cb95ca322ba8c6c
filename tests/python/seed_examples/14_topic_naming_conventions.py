# Good - descriptive and hierarchical
pub = shm_pub_sub.Publisher("robot/sensors/lidar/distance", 0.0, 5)

# Better - include units and context
pub = shm_pub_sub.Publisher("robot_main/lidar_front/distance_meters", 0.0, 5)

# Boolean Subscriber
sub_bool = shm_pub_sub.Subscriber(name: str, default_value: bool)

# Integer Subscriber
sub_int = shm_pub_sub.Subscriber(name: str, default_value: int)

# Float Subscriber  
sub_float = shm_pub_sub.Subscriber(name: str, default_value: float)

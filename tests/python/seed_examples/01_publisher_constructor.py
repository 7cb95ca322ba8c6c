# Boolean Publisher
pub_bool = shm_pub_sub.Publisher(name: str, default_value: bool, buffer_num: int)

# Integer Publisher  
pub_int = shm_pub_sub.Publisher(name: str, default_value: int, buffer_num: int)

# Float Publisher
pub_float = shm_pub_sub.Publisher(name: str, default_value: float, buffer_num: int)

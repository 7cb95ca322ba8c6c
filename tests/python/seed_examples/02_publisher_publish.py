# Boolean data publishing
pub_bool.publish(True)

# Integer data publishing  
pub_int.publish(42)

# Float data publishing
pub_float.publish(3.14159)

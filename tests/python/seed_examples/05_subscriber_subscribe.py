# Boolean data subscription
data, is_success = sub_bool.subscribe()

# Integer data subscription
data, is_success = sub_int.subscribe()

# Float data subscription
data, is_success = sub_float.subscribe()

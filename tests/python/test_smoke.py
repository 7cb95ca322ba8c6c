import shm_pub_sub


def test_float_round_trip_through_subscribe():
    pub = shm_pub_sub.Publisher("temperature_sensor", 0.0, 5)
    sub = shm_pub_sub.Subscriber("temperature_sensor", 0.0)
    assert sub.subscribe() == (0.0, False)
    pub.publish(21.5)
    assert sub.subscribe() == (21.5, True)
    pub.close()
    sub.close()
    shm_pub_sub.unlink("temperature_sensor")

def robust_subscriber():
    sub = shm_pub_sub.Subscriber("data_topic", 0.0)

    while True:
        try:
            data, success = sub.subscribe()
            if success:
                process_data(data)
            else:
                # Handle no-data case gracefully
                time.sleep(0.01)
        except Exception as e:
            print(f"âŒ Error in subscriber: {e}")
            time.sleep(0.1)  # Brief pause before retry

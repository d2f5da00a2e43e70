"""onetrip's registry: the service items, their editions, storage and the web app."""

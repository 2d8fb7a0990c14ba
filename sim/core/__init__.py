"""The model core: user columns, the social graph, common random numbers, mechanisms, the day."""

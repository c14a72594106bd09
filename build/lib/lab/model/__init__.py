"""What a lab is, as plain data: the user's configuration, the plan, backends, balance modes, stores,
nginx's configuration, what each container may do. No I/O."""

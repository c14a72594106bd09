"""What makes a plan real: the Docker engine on this machine and the swarm, the images they build, the
containers' wait strategies, this machine's side of the network."""

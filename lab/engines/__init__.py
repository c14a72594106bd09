"""What makes a plan real: one engine interface (interface.py) with a local and a swarm implementation,
chosen in one place (choice.py); the reconcile; Docker's SDK; the images; the containers' wait strategies;
this machine's side of the network."""

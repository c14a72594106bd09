"""The balancer's image (its Dockerfile and scripts), shipped inside the lab's package as `lab.nginx`."""

# The lab's verbs. `make help` lists them; variables set the lab's options, e.g.
#   make lab-up BACKEND=memcached BALANCE=ip_hash NODES=4 PORT=8080
.DEFAULT_GOAL := help
SHELL := /bin/bash

# The interpreter that makes the lab's own .venv; SITE_PYTHON is the one the site runs on in the nodes.
PYTHON ?= python3
VENV := .venv
LAB := $(VENV)/bin/lab
NAME ?= djlab
NODE ?= nginx

UP_OPTIONS := $(if $(BACKEND),--backend $(BACKEND)) $(if $(BALANCE),--balance $(BALANCE)) \
	$(if $(NODES),--nodes $(NODES)) $(if $(PORT),--port $(PORT)) $(if $(WORKERS),--workers $(WORKERS)) \
	$(if $(DJANGO_VERSION),--django-version $(DJANGO_VERSION)) $(if $(SITE),--site $(SITE)) \
	$(if $(SITE_PYTHON),--python $(SITE_PYTHON)) $(if $(ENV_FILE),--env-file $(ENV_FILE))
SWITCH_OPTIONS := $(if $(BACKEND),--backend $(BACKEND)) $(if $(BALANCE),--balance $(BALANCE)) \
	$(if $(NODES),--nodes $(NODES))

.PHONY: help setup engine browser venv images lab-up lab-switch lab-status lab-logs lab-down test test-unit mutation matrix experiments bench bench-quick \
	bench-lifecycle bench-production bench-profile bench-site bench-swarm lab-readiness lab-matrix lab-watch swarm-hosts swarm-hosts-down docs-reference clean

help: ## list these targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test]'
	touch $@

venv: $(VENV)/.installed ## create .venv with the lab and its test tools

engine: ## make sure a Docker engine answers (as root on Debian: install and start one)
	@bash lab/setup/ensure-engine.sh

browser: ## make sure Chromium is here for the browser tests (as root on Debian: install it)
	@bash lab/setup/ensure-browser.sh

setup: venv engine ## everything the lab needs on this machine

images: setup ## build every image the lab uses (a second run builds nothing)
	$(LAB) --name $(NAME) build

lab-up: setup ## bring the lab up (BACKEND= BALANCE= NODES= PORT= WORKERS= SITE=your/project SITE_PYTHON=3.11 ENV_FILE=.env)
	$(LAB) --name $(NAME) up $(UP_OPTIONS)

lab-switch: setup ## change a running lab (BACKEND= BALANCE= NODES=)
	$(LAB) --name $(NAME) switch $(SWITCH_OPTIONS)

lab-status: setup ## show the lab's containers, URL and login
	$(LAB) --name $(NAME) status

lab-logs: setup ## show a container's log (NODE=node-1, nginx, redis, ...)
	$(LAB) --name $(NAME) logs $(NODE)

lab-watch: setup ## watch users move across nodes, live (WEB=1: as a page on 127.0.0.1:8099)
	$(LAB) --name $(NAME) watch $(if $(WEB),--web)

lab-readiness: setup ## what in the lab's site breaks on several machines, probed on its nodes
	$(LAB) --name $(NAME) readiness

lab-matrix: setup ## the quick matrix on the lab's site (SITE=your/project brings it up first; FULL=1 for all cells)
	$(LAB) --name $(NAME) matrix $(if $(SITE),--site $(SITE)) $(if $(FULL),,--quick)

lab-down: setup ## remove the lab's containers, network and volumes
	$(LAB) --name $(NAME) down

test: images browser ## run the unit and integration tests against the real engine (and Chromium)
	$(VENV)/bin/pytest

matrix: images ## every backend x balancing mode, judged with evidence; report in reports/latest.html
	$(VENV)/bin/pytest -q tests/integration/test_matrix.py --matrix=full

experiments: images ## every failure experiment on a live lab; report in reports/latest-experiments.html
	$(VENV)/bin/pytest -q tests/integration/test_experiments.py --experiments=full

test-unit: venv ## run the unit tests only (no Docker)
	$(VENV)/bin/pytest tests/unit

mutation: venv ## mutate the decision modules one change at a time; the unit tests must kill each mutant (MODULE=lab.verdicts.rules for one)
	$(VENV)/bin/pip install --quiet -e '.[test,mutation]'
	$(VENV)/bin/mutmut run --max-children $$(nproc) $(if $(MODULE),'$(MODULE)*')
	$(VENV)/bin/python tests/tools/mutation_score.py

bench: images ## throughput and latency per backend and balancing mode (report in reports/latest-bench.html)
	$(LAB) bench load

bench-quick: images ## the same, four backends, about a minute
	$(LAB) bench load --quick

bench-production: images ## a rolling deploy's time and failed requests, a slow store's p50/p95, WebSocket messages/s per channel layer
	$(LAB) bench production --site tests/sites/chatsite --with-fix

bench-lifecycle: images ## time image build, lab up, switch and down
	$(LAB) bench lifecycle

bench-site: images ## per fixture site: interpreter, build stage, cold build, image size, warm up, a code change rolled out
	$(LAB) bench site

bench-swarm: images ## the lab on the swarm's test hosts (make swarm-hosts first): up, switch, load vs one engine
	$(LAB) bench swarm

bench-profile: images ## where up, switch, a matrix cell and the full matrix spend their time, against floors
	$(LAB) bench profile --matrix

swarm-hosts: setup ## test hosts for the Swarm path: HOSTS=3 engines on this machine in one swarm, and a registry
	bash lab/setup/swarm-hosts.sh up $(or $(HOSTS),3)
	$(VENV)/bin/python -m lab.engines.registry up

swarm-hosts-down: setup ## remove the test hosts, their swarm and the registry (this engine's own containers stay)
	$(VENV)/bin/python -m lab.engines.registry down
	bash lab/setup/swarm-hosts.sh down

docs-reference: venv ## write docs/cli.md, the command reference, from the lab's parser
	$(VENV)/bin/python -m lab.cli.reference > docs/cli.md

clean: ## remove .venv (labs and images stay; `make lab-down` removes a lab)
	rm -rf $(VENV)

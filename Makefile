# Shortcuts for the scripts in bin/. `make` alone lists them.
PY ?= .venv/bin/python
LOCALES ?= zh_Hans en
MANAGE_IGNORE = --ignore=.venv --ignore=var --ignore=node_modules --ignore=test-artifacts

.DEFAULT_GOAL := help
.PHONY: help run test bench messages

help: ## List the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

run: ## Install everything and run the app on http://localhost:8000 (bash bin/run)
	bash bin/run

test: ## Install everything and run the whole test suite (bash bin/test; ARGS="-x -q" to pass pytest options)
	bash bin/test $(ARGS)

bench: ## Run the benchmarks in bench/ (bash bin/bench)
	bash bin/bench $(ARGS)

messages: ## Extract translatable strings into locale/*/LC_MESSAGES/django.po and compile every .po
	mkdir -p $(addprefix locale/,$(LOCALES))
	$(PY) manage.py makemessages $(addprefix -l ,$(LOCALES)) $(MANAGE_IGNORE) --no-obsolete
	$(PY) manage.py compilemessages $(MANAGE_IGNORE)

# make dev: the whole platform on this machine (PostgreSQL, the four functions,
# the local broker with the gateway and the dashboard) against the current
# kubeconfig. See docs/dev.md.

TEST_TARGETS += test-mail

.PHONY: dev dev-stop dev-token test-mail

dev: ## run Storefleet locally: http://127.0.0.1:8080 and a dev admin token; Ctrl-C stops everything
	scripts/dev

dev-stop: ## stop a stack started with scripts/dev --background
	scripts/dev stop

dev-token: ## print the dev admin token
	@scripts/dev token

# The mail catcher of scripts/dev: the real Mailpit (scripts/tool mailpit) on
# loopback ports of the test's own, a message sent with smtplib and read back
# through Mailpit's API. Uses no shared port.
test-mail: ## the local mail catcher (Mailpit): SMTP in, the API and web UI out, loopback only
	python3 -m unittest -v tests/mail/test_mail_catcher.py

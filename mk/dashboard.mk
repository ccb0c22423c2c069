# The dashboard (dashboard/): React + TypeScript + Tailwind built with Vite.
# See docs/dashboard.md.

LINT_TARGETS += lint-dashboard
TEST_TARGETS += test-dashboard visual-dashboard e2e-dashboard

DASHBOARD := dashboard
DASHBOARD_STAMP := $(DASHBOARD)/node_modules/.storefleet-installed
DASHBOARD_SOURCES := $(shell find $(DASHBOARD)/src -type f 2>/dev/null) $(DASHBOARD)/index.html \
  $(DASHBOARD)/vite.config.ts $(DASHBOARD)/tsconfig.json
# The API's types, generated from the OpenAPI document list-stores serves
# (docs/openapi.json, checked against the code by list-stores' openapi test).
DASHBOARD_API_TYPES := src/api/openapi.d.ts
OPENAPI_TYPESCRIPT := npx --no-install openapi-typescript ../docs/openapi.json
# playwright-core never downloads browsers; the variable is belt and braces.
DASHBOARD_NPM_ENV := PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm_config_update_notifier=false

.PHONY: dashboard-deps dashboard-types lint-dashboard test-dashboard build-dashboard dev-dashboard visual-dashboard e2e-dashboard

# npm ci from the committed lockfile, again only when the lockfile changes.
$(DASHBOARD_STAMP): $(DASHBOARD)/package.json $(DASHBOARD)/package-lock.json
	cd $(DASHBOARD) && $(DASHBOARD_NPM_ENV) npm ci --no-audit --no-fund
	touch $@

dashboard-deps: $(DASHBOARD_STAMP) ## install the dashboard's npm packages from package-lock.json (npm ci)

dashboard-types: $(DASHBOARD_STAMP) ## regenerate dashboard/src/api/openapi.d.ts from docs/openapi.json (openapi-typescript)
	cd $(DASHBOARD) && $(OPENAPI_TYPESCRIPT) --output $(DASHBOARD_API_TYPES)

# The committed types must be what the generator makes of the document today:
# generate into a temporary file and compare, so a changed document with
# stale types fails here and not in a user's browser.
lint-dashboard: $(DASHBOARD_STAMP) ## the API types up to date with docs/openapi.json, eslint (typescript-eslint, react-hooks, jsx-a11y) and tsc --noEmit on the dashboard
	@fresh=$$(mktemp --suffix=.d.ts) && trap 'rm -f "$$fresh"' EXIT && \
	  (cd $(DASHBOARD) && $(OPENAPI_TYPESCRIPT) --output "$$fresh" >/dev/null) && \
	  if ! diff -u $(DASHBOARD)/$(DASHBOARD_API_TYPES) "$$fresh"; then \
	    echo "$(DASHBOARD)/$(DASHBOARD_API_TYPES) is stale: docs/openapi.json changed. Regenerate it with: make dashboard-types" >&2; exit 1; \
	  fi
	cd $(DASHBOARD) && npx --no-install eslint . --max-warnings=0
	cd $(DASHBOARD) && npx --no-install tsc --noEmit

test-dashboard: $(DASHBOARD_STAMP) ## the dashboard's component tests (Vitest + Testing Library)
	cd $(DASHBOARD) && npx --no-install vitest run

$(DASHBOARD)/dist/index.html: $(DASHBOARD_STAMP) $(DASHBOARD_SOURCES)
	cd $(DASHBOARD) && npx --no-install vite build

build-dashboard: $(DASHBOARD)/dist/index.html ## build the dashboard into dashboard/dist (served by the local broker's gateway)

dev-dashboard: $(DASHBOARD_STAMP) ## Vite dev server on 127.0.0.1:5173 with hot reload; /api goes to the gateway on 127.0.0.1:8080
	cd $(DASHBOARD) && npx --no-install vite

# A real Chromium against the built dashboard with the API answered by
# Playwright's page.route (src/test/fakeApi.ts): the accessibility check
# (axe-core, no serious or critical violation) and the rendering check at
# desktop and phone width of every screen and state — NOT the proof that the
# stack works (that is e2e-dashboard).
visual-dashboard: $(DASHBOARD)/dist/index.html ## axe-core + screenshots of every screen at 1280 and 375 px with a stubbed API (artifacts/screenshots/visual)
	scripts/ensure-chromium
	cd $(DASHBOARD) && npx --no-install vitest run --config vitest.visual.config.ts

# The end-to-end suite: Chromium against the real stack of make dev
# (PostgreSQL, the functions, the local broker) with helm installing into the
# kwok test cluster. The suite starts and stops the stack (scripts/dev
# --background), so ports 8080-8084 must be free. See docs/dashboard.md.
e2e-dashboard: $(DASHBOARD_STAMP) ## end-to-end in Chromium against the real stack and the test cluster (artifacts/screenshots/e2e)
	scripts/e2e-dashboard

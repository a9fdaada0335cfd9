# Two commands on a fresh Debian machine: `make demo` and `make test`.
# Both install what is missing (Debian packages, then a virtualenv in .venv).

VENV := .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
APT_PACKAGES := tesseract-ocr tesseract-ocr-fra python3-venv python3-pip poppler-utils
# The comb digit model learns from the digits of these hand-like fonts (pipeline/reading/scan/ ICR_TRAINING_FONTS).
ICR_FONT_PACKAGES := fonts-bwht fonts-dancingscript fonts-comic-neue
APT_PACKAGES += $(ICR_FONT_PACKAGES)
# The forms, the blank template and verification by synthesis embed this package's Liberation Sans (pipeline/form/fonts.py);
# synthesis also types a value in DejaVu Sans, the font a desktop PDF viewer prints a field in when it lacks Helvetica's.
FORM_FONT_PACKAGES := fonts-liberation fonts-dejavu-core
APT_PACKAGES += $(FORM_FONT_PACKAGES)
# The given-name lexicon that chooses between the two readers of a first name (pipeline/reading/lexicon.py).
LEXICON_PACKAGES := hunspell-fr-comprehensive
APT_PACKAGES += $(LEXICON_PACKAGES)
# The review desk's browser tests drive Debian's chromium (Playwright cannot download its own here).
TEST_APT_PACKAGES := chromium
# The store's PostgreSQL tests start a throwaway cluster on loopback (tests/support/postgres.py).
TEST_APT_PACKAGES += postgresql
# The mailbox tests start a throwaway Dovecot IMAP server with a self-signed certificate (tests/support/mail_servers.py).
TEST_APT_PACKAGES += dovecot-imapd openssl
# Handwritten sample forms are written in these fonts (samples/handwriting.py): the tests and the bench need them.
# DejaVu letters the stamps of samples/copies.py and the captions of the bench's contact sheet (pipeline/reading/crops.py).
HAND_FONT_PACKAGES := fonts-ecolier-court fonts-breip fonts-dkg-handwriting fonts-femkeklaver fonts-humor-sans fonts-dejavu-core
TEST_APT_PACKAGES += $(HAND_FONT_PACKAGES)

.PHONY: demo test test-fast lint bench bench-scale system system-test hand-fonts venv form web clean \
	prefect-server prefect-server-stop

system:
	@if ! command -v tesseract >/dev/null || ! tesseract --list-langs 2>/dev/null | grep -qx fra \
	    || ! python3 -c 'import venv, ensurepip' 2>/dev/null || ! dpkg -s $(ICR_FONT_PACKAGES) $(FORM_FONT_PACKAGES) $(LEXICON_PACKAGES) >/dev/null 2>&1; then \
	  echo "Installing Debian packages: $(APT_PACKAGES)"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(APT_PACKAGES); \
	fi

system-test: system
	@if ! command -v chromium >/dev/null || ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
	    || ! test -x /usr/sbin/dovecot || ! dpkg -s $(HAND_FONT_PACKAGES) >/dev/null 2>&1; then \
	  echo "Installing Debian packages: $(TEST_APT_PACKAGES)"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(TEST_APT_PACKAGES); \
	fi

hand-fonts:
	@if ! dpkg -s $(HAND_FONT_PACKAGES) >/dev/null 2>&1; then \
	  echo "Installing Debian packages: $(HAND_FONT_PACKAGES)"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(HAND_FONT_PACKAGES); \
	fi

# Versions come from constraints.txt (issue 16): a reading must not depend on what resolves on install day.
$(VENV)/.installed: pyproject.toml constraints.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e '.[samples,test]'
	touch $@

venv: system $(VENV)/.installed

demo: venv
	$(VENV)/bin/clas-referrals run

# The long-lived local Prefect server (issue 19): runs without PREFECT_API_URL report to it when it answers,
# instead of starting a temporary server each (about 6 s). In the background, its state in var/prefect;
# `make prefect-server-stop` stops it. `make demo` does not need it.
prefect-server: venv
	$(VENV)/bin/clas-referrals prefect-server --background

prefect-server-stop: venv
	PREFECT_HOME=$${PREFECT_HOME:-$(CURDIR)/var/prefect} $(VENV)/bin/prefect server stop

# Two test processes (pytest-xdist), each module's tests kept in one process so that a module's PostgreSQL cluster
# or browser starts once (--dist loadfile); the Prefect server starts once a process (tests/conftest.py prefect_api).
# Every server a test starts takes a free port and its own folder, so the two never share one (issue 19: 14 min on
# one process on a quiet 2-core machine).
PYTEST_WORKERS ?= 2
PYTEST_PARALLEL := -n $(PYTEST_WORKERS) --dist loadfile

# Lint first: ruff over the whole tree, mypy over the packages ([tool.mypy] files in pyproject.toml).
test: system-test venv lint
	$(VENV)/bin/pytest -q $(PYTEST_PARALLEL)

# The tests that start no server: no browser, PostgreSQL, mail server or Prefect server (markers registered in
# pyproject.toml, given in tests/conftest.py), nor the slow end-to-end readings (`slow`, which `make test` runs).
# Needs tesseract and the hand fonts, not chromium or PostgreSQL.
FAST_MARKERS := not browser and not postgres and not mail_server and not prefect_server and not slow

# No server to start once per module here: tests are dealt one by one (--dist load), which evens out the two
# processes (quiet 2-core machine: 1 min 58 s, against 2 min 02 s with --dist loadfile).
test-fast: system hand-fonts venv
	$(VENV)/bin/pytest -q -n $(PYTEST_WORKERS) --dist load -m "$(FAST_MARKERS)"

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

# Issue 3 asks for a hard corpus of at least 300 forms: 25 of each of its kinds (13 with issue 16's halftone fax).
BENCH_HARD_PER_KIND := 25

# The independent generator's corpus with truth (issue 16), beside the project's own kinds when it is there.
DEVSET := ../shared/devset

bench: hand-fonts venv
	$(VENV)/bin/clas-referrals bench --kinds base --per-kind 10
	$(VENV)/bin/clas-referrals bench --kinds hard --per-kind $(BENCH_HARD_PER_KIND) --workers 2
	@if [ -d $(DEVSET)/truth ]; then $(VENV)/bin/clas-referrals bench --corpus $(DEVSET) --workers 2; \
	else echo "No corpus at $(DEVSET): the independent corpus is left out (DEVSET=dir to point at one)."; fi

# The scale benchmark (issue 19): the nightly flow over N mixed forms on 1 then 2 Dask workers; the generated forms
# stay in var/bench/scale-N and the next run with the same N reuses them (1,000 take about 20 min to generate).
BENCH_SCALE_FORMS := 100

bench-scale: hand-fonts venv
	$(VENV)/bin/clas-referrals bench --forms $(BENCH_SCALE_FORMS) --workers 2 --scale-dir var/bench/scale-$(BENCH_SCALE_FORMS)

web: venv
	$(VENV)/bin/clas-referrals web

form: venv
	$(VENV)/bin/clas-referrals form --out var/forms

clean:
	rm -rf var .pytest_cache

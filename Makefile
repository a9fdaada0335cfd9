# Two commands on a fresh Debian machine: `make demo` and `make test`.
# Both install what is missing (Debian packages, then a virtualenv in .venv).

VENV := .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
APT_PACKAGES := tesseract-ocr tesseract-ocr-fra python3-venv python3-pip poppler-utils
# The comb digit model learns from the digits of these hand-like fonts (pipeline/reading/scan/ ICR_TRAINING_FONTS).
ICR_FONT_PACKAGES := fonts-bwht fonts-dancingscript fonts-comic-neue
APT_PACKAGES += $(ICR_FONT_PACKAGES)
# The review desk's browser tests drive Debian's chromium (Playwright cannot download its own here).
TEST_APT_PACKAGES := chromium
# The trust tests start a throwaway PostgreSQL on loopback (tests/trust/postgres.py).
TEST_APT_PACKAGES += postgresql
# Handwritten sample forms are written in these fonts (samples/handwriting.py): the tests and the bench need them.
# DejaVu letters the stamps of samples/copies.py and the captions of the bench's contact sheet (pipeline/reading/crops.py).
HAND_FONT_PACKAGES := fonts-ecolier-court fonts-breip fonts-dkg-handwriting fonts-femkeklaver fonts-humor-sans fonts-dejavu-core
TEST_APT_PACKAGES += $(HAND_FONT_PACKAGES)

.PHONY: demo test bench system system-test hand-fonts venv form web clean

system:
	@if ! command -v tesseract >/dev/null || ! tesseract --list-langs 2>/dev/null | grep -qx fra \
	    || ! python3 -c 'import venv, ensurepip' 2>/dev/null || ! dpkg -s $(ICR_FONT_PACKAGES) >/dev/null 2>&1; then \
	  echo "Installing Debian packages: $(APT_PACKAGES)"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(APT_PACKAGES); \
	fi

system-test: system
	@if ! command -v chromium >/dev/null || ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
	    || ! dpkg -s $(HAND_FONT_PACKAGES) >/dev/null 2>&1; then \
	  echo "Installing Debian packages: $(TEST_APT_PACKAGES)"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(TEST_APT_PACKAGES); \
	fi

hand-fonts:
	@if ! dpkg -s $(HAND_FONT_PACKAGES) >/dev/null 2>&1; then \
	  echo "Installing Debian packages: $(HAND_FONT_PACKAGES)"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(HAND_FONT_PACKAGES); \
	fi

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[samples,test]'
	touch $@

venv: system $(VENV)/.installed

demo: venv
	$(VENV)/bin/clas-referrals run

test: system-test venv
	$(VENV)/bin/pytest -q

# Issue 3 asks for a hard corpus of at least 300 forms: 25 of each of its 12 kinds, two read at a time.
BENCH_HARD_PER_KIND := 25

bench: hand-fonts venv
	$(VENV)/bin/clas-referrals bench --kinds base --per-kind 10
	$(VENV)/bin/clas-referrals bench --kinds hard --per-kind $(BENCH_HARD_PER_KIND) --workers 2

web: venv
	$(VENV)/bin/clas-referrals web

form: venv
	$(VENV)/bin/clas-referrals form --out var/forms

clean:
	rm -rf var .pytest_cache

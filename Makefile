# Two set-up commands (README): `make demo` and `make test`. Each makes the venv it needs.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SAMPLES := sample_videos
GOOD := 壶关县鑫达职业培训学校2024年第1期中式面点师培训班
BAD  := 长治市华森职业培训学校2024年第3期电工培训班

.PHONY: install system-fonts system-browser system-rtsp demo test lint bench docs screenshots clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# What a bare Debian/Ubuntu lacks (a CJK font; Chromium for the browser test; Perl's RTSP server
# library for the live patrol test): installed with
# apt-get when this machine allows it, else one line saying what to install (tools/system-packages).
system-fonts:
	@sh tools/system-packages fonts

system-browser:
	@sh tools/system-packages browser

system-rtsp:
	@sh tools/system-packages rtsp

demo: install system-fonts
	$(BIN)/video-audit sample $(SAMPLES)
	@echo; echo "== 合格班级 / compliant class (expect exit 0) =="
	$(BIN)/video-audit check "$(SAMPLES)/$(GOOD)"
	@echo; echo "== 问题班级 / faulty class (expect exit 1) =="
	$(BIN)/video-audit check "$(SAMPLES)/$(BAD)"; test $$? -eq 1
	@echo; echo "== 整张光盘 HTML 报告 / whole-disc HTML report =="
	$(BIN)/video-audit check $(SAMPLES) --format html --out out/report.html; test $$? -le 1
	@echo "HTML: out/report.html"

test: install system-fonts system-browser system-rtsp
	$(BIN)/pytest -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: install
	$(BIN)/python -m bench.layout_format
	$(BIN)/python -m bench.scan
	$(BIN)/python -m bench.web
	$(BIN)/python -m bench.reports
	$(BIN)/python -m bench.picture
	$(BIN)/python -m bench.cuts
	$(BIN)/python -m bench.clock
	$(BIN)/python -m bench.clock_fonts
	$(BIN)/python -m bench.detect
	$(BIN)/python -m bench.faces --clips 11 --sweep

docs: install
	$(BIN)/video-audit rules --markdown > docs/rules.md
	$(BIN)/python -c "from video_audit.settings import settings_markdown as m; print(m(), end=\"\")" > docs/settings.md

# The pictures of docs/path-to-payment.md, from a real server and Chromium.
screenshots: install system-fonts system-browser
	$(BIN)/python -m tools.screenshots

clean:
	rm -rf $(VENV) $(SAMPLES) out .pytest_cache .mypy_cache .ruff_cache

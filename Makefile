# wa-insights: the commands. `make test` is what CI runs; `make demo` runs the product on
# the local stack with generated traffic; `make local` keeps the stack up for your scripts.
SHELL := /bin/bash
CARGO ?= cargo

.PHONY: setup test lint-infra fmt-check clippy unit demo local pull report rebuild rebuild-rollups link-identities redrive replay fuzz bench clean-local

setup:
	@scripts/setup.sh

## The test command (CI): set-up, formatting, lints, template lint, every test.
test: setup fmt-check clippy lint-infra
	$(CARGO) test --workspace

fmt-check:
	$(CARGO) fmt --all -- --check

clippy:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

lint-infra: setup
	@scripts/lint-infra.sh

## The main job: local stack, every corpus webhook + generated signed traffic, per-kind counts.
demo: setup
	$(CARGO) run --quiet -p integration-tests --bin demo

## The local stack in the foreground until Ctrl-C; writes .local/endpoints.env.
local: setup
	$(CARGO) run --quiet -p integration-tests --bin local-stack

## One meta-sync run against `make local` (another terminal). PAYLOAD defaults to a scheduled
## run; e.g. PAYLOAD='{"mode":"backfill","from":"2026-11-01","to":"2026-11-20"}'.
pull:
	$(CARGO) run --quiet -p integration-tests --bin meta-sync-pull -- '$(PAYLOAD)'

## One report from `make local` (another terminal): prints the link and the first lines.
## e.g. make report KIND=response_times FROM=2026-11-01 TO=2026-11-07 TZ=Asia/Jakarta GROUP_BY=week
report:
	KIND='$(KIND)' FROM='$(FROM)' TO='$(TO)' TZ='$(TZ)' GROUP_BY='$(GROUP_BY)' PHONE_NUMBER_ID='$(PHONE_NUMBER_ID)' \
	  $(CARGO) run --quiet -p integration-tests --bin report

## Re-derive the lead markers (the reports' time index) from the message items.
rebuild:
	$(CARGO) run --quiet -p integration-tests --bin rebuild

## Recompute the message rollups and every person's facts from the message items (pause the
## webhook and let the stream drain first: docs/RUNBOOK.md, "Rebuilding the rollups").
rebuild-rollups:
	$(CARGO) run --quiet -p integration-tests --bin rebuild-rollups

## Link the ids of people already split across phone and business-scoped ids, and merge
## their leads (DRY_RUN=1 prints what it would do; START_SEGMENT=n resumes a crashed run).
link-identities:
	DRY_RUN='$(DRY_RUN)' START_SEGMENT='$(START_SEGMENT)' $(CARGO) run --quiet -p integration-tests --bin link-identities

## After the aggregator gave up on stream records (its dead-letter queue is not empty):
## re-derive every marker and identity link from the message items (idempotent).
redrive:
	$(CARGO) run --quiet -p integration-tests --bin rebuild
	DRY_RUN= START_SEGMENT= $(CARGO) run --quiet -p integration-tests --bin link-identities

## Re-ingest the webhook bodies kept under quarantine/ after a parser or store fix, with the
## webhook's code (DRY_RUN=1 writes nothing and prints what each body gives; PREFIX=quarantine/
## <reason>/ and SINCE=YYYY-MM-DD narrow it; START_AFTER=<key> resumes). Idempotent; objects
## are never changed or deleted.
replay:
	DRY_RUN='$(DRY_RUN)' PREFIX='$(PREFIX)' SINCE='$(SINCE)' START_AFTER='$(START_AFTER)' $(CARGO) run --quiet -p integration-tests --bin replay-quarantined

## Property-based fuzzing of the webhook's POST path and the API parsers, long (make test runs
## the same properties over 256 cases each). FUZZ_CASES=n to choose.
FUZZ_CASES ?= 200000
fuzz:
	PROPTEST_CASES=$(FUZZ_CASES) $(CARGO) test --release -p integration-tests --test fuzz

## Benchmarks: CPU per status event (criterion) and DynamoDB requests per status event;
## the webhook's handler time and load over loopback HTTP with the table in dynalite (every
## run checked exactly against the generator's truth); reports; cold starts.
bench: setup
	$(CARGO) bench --workspace --bench ingest
	$(CARGO) bench -p shared --bench report
	$(CARGO) run --quiet -p integration-tests --bin ingest-counters
	$(CARGO) run --release --quiet -p integration-tests --bin load
	$(CARGO) run --release --quiet -p integration-tests --bin report-bench
	# One package per build, as SAM builds them: together, cargo would unify their features.
	for p in webhook aggregator leads reports report-jobs conversions lead-imports meta-sync; do $(CARGO) build --release -p $$p || exit 1; done
	$(CARGO) run --quiet -p integration-tests --bin cold-start -- 10

clean-local:
	rm -rf .local

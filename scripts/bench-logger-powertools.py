#!/usr/bin/env python3
"""Per-call cost of Powertools for AWS Lambda (Python) Logger, the peer of the
lookout-logger benchmark (BENCHMARKS.md, section lookout-logger).

Same method as shared/conformance/logger/powertools-python-bench.json: a Logger writing
to os.devnull, one decorated call with a fake Lambda context so the context keys are
present, then timeit.repeat(number=N, repeat=R) of logger.info('Collecting payment',
extra={5 keys}); value = best and median repeat / number, in microseconds. Also
debug() below the INFO level. Prints one JSON object.

Requires: pip install aws-lambda-powertools==3.37.0
Usage: python3 scripts/bench-logger-powertools.py [--number 20000] [--repeat 7]
"""
import argparse
import json
import os
import statistics
import timeit

from aws_lambda_powertools import Logger


class Context:
    function_name = "payment-fn"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:payment-fn"
    aws_request_id = "00000001-0000-4000-8000-000000000001"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--number", type=int, default=20000)
    p.add_argument("--repeat", type=int, default=7)
    p.add_argument(
        "--calls",
        type=int,
        default=None,
        help="only make this many info() calls after 20 warm-up calls (for callgrind: "
        "instructions per call = (Ir with N calls - Ir with 0 calls) / N)",
    )
    args = p.parse_args()
    os.environ["_X_AMZN_TRACE_ID"] = (
        "Root=1-6743a1b0-000000000000000000000001;Parent=0000000000000001;Sampled=1"
    )
    sink = open(os.devnull, "w")
    logger = Logger(service="bench-probe", stream=sink)
    extra = {"order_id": "ord-1001", "amount": 42.5, "currency": "EUR", "customer_tier": "gold", "attempt": 3}

    @logger.inject_lambda_context
    def handler(event, context):
        return None

    handler({}, Context())
    if args.calls is not None:
        for _ in range(20):
            logger.info("Collecting payment", extra=extra)
        for _ in range(args.calls):
            logger.info("Collecting payment", extra=extra)
        return
    # inject_lambda_context keeps the context keys after the call (no clear_state).
    out = {}
    for name, stmt in (
        ("info_5_extra_keys_devnull_us", lambda: logger.info("Collecting payment", extra=extra)),
        ("debug_filtered_out_us", lambda: logger.debug("Collecting payment", extra=extra)),
    ):
        runs = timeit.repeat(stmt, number=args.number, repeat=args.repeat)
        per = [r / args.number * 1e6 for r in runs]
        out[name] = {"min": round(min(per), 3), "median": round(statistics.median(per), 3)}
    print(json.dumps({"library": "aws-lambda-powertools 3.37.0", "number": args.number, "repeat": args.repeat, **out}))


if __name__ == "__main__":
    main()

//! Fixed names and words the generator draws from: functions, services, messages.
//!
//! Kept seed-independent so that log group names are the same in every corpus and the
//! benchmarks can name them.

/// Business domains; a function is `<domain>-<role>` and logs as service `<domain>`.
pub(crate) const DOMAINS: [&str; 10] = [
    "orders",
    "payments",
    "users",
    "inventory",
    "shipping",
    "notifications",
    "auth",
    "search",
    "catalog",
    "billing",
];

/// Function roles; `api` and `webhook` functions sit behind API Gateway and carry a
/// correlation id, the others are queue or schedule driven.
pub(crate) const ROLES: [&str; 5] = ["api", "worker", "processor", "webhook", "scheduler"];

pub(crate) const MEMORY_MB: [u32; 6] = [128, 256, 512, 1024, 1536, 2048];

pub(crate) const PROVIDERS: [&str; 4] = ["stripe", "adyen", "braintree", "paypal"];
pub(crate) const CURRENCIES: [&str; 4] = ["USD", "EUR", "GBP", "JPY"];
pub(crate) const TIERS: [&str; 4] = ["free", "silver", "gold", "platinum"];
pub(crate) const TABLES: [&str; 5] = ["orders", "customers", "sessions", "inventory", "ledger"];
pub(crate) const QUEUES: [&str; 4] = [
    "orders-queue",
    "payments-events",
    "email-outbox",
    "inventory-updates",
];
pub(crate) const EVENT_TYPES: [&str; 5] = [
    "OrderCreated",
    "PaymentCaptured",
    "ShipmentDispatched",
    "UserRegistered",
    "InvoiceIssued",
];
pub(crate) const DOWNSTREAMS: [&str; 5] = [
    "payments.internal",
    "inventory.internal",
    "dynamodb.us-east-1.amazonaws.com",
    "api.partner.example",
    "sqs.us-east-1.amazonaws.com",
];
pub(crate) const PATHS: [&str; 6] = [
    "/orders",
    "/orders/{id}",
    "/users/{id}",
    "/checkout",
    "/search",
    "/webhooks/partner",
];
pub(crate) const METHODS: [&str; 4] = ["GET", "POST", "PUT", "DELETE"];
pub(crate) const SKUS: u64 = 4_000;
pub(crate) const FIELDS: [&str; 5] = ["email", "amount", "currency", "shipping_address", "sku"];

/// Exception families: (name, module, message, file, function, statement).
pub(crate) const PY_EXCEPTIONS: [(&str, &str, &str, &str, &str, &str); 4] = [
    (
        "PaymentDeclined",
        "app.errors",
        "card declined (code=insufficient_funds)",
        "/var/task/app/clients/payment.py",
        "charge",
        "raise PaymentDeclined(reason)",
    ),
    (
        "KeyError",
        "builtins",
        "'customer_id'",
        "/var/task/app/handlers/orders.py",
        "process_order",
        "customer = event[\"customer_id\"]",
    ),
    (
        "TimeoutError",
        "builtins",
        "downstream did not answer within 2.5s",
        "/var/task/app/clients/http.py",
        "request",
        "raise TimeoutError(f\"downstream did not answer within {timeout}s\")",
    ),
    (
        "ClientError",
        "botocore.exceptions",
        "An error occurred (ConditionalCheckFailedException) when calling the PutItem operation: The conditional request failed",
        "/var/task/app/store.py",
        "save",
        "table.put_item(Item=item, ConditionExpression=\"attribute_not_exists(pk)\")",
    ),
];

/// (name, message, stack frame function) for Node.js errors.
pub(crate) const JS_ERRORS: [(&str, &str, &str); 3] = [
    (
        "TypeError",
        "Cannot read properties of undefined (reading 'id')",
        "processOrder",
    ),
    (
        "ValidationError",
        "amount must be a positive number",
        "validate",
    ),
    (
        "FetchError",
        "request to https://api.partner.example/v2/orders failed, reason: socket hang up",
        "callPartner",
    ),
];

/// (message, location) of Rust panics.
pub(crate) const RUST_PANICS: [(&str, &str); 3] = [
    (
        "called `Option::unwrap()` on a `None` value",
        "src/handler.rs:88:41",
    ),
    (
        "called `Result::unwrap()` on an `Err` value: ParseIntError { kind: InvalidDigit }",
        "src/parse.rs:23:18",
    ),
    (
        "index out of bounds: the len is 3 but the index is 3",
        "src/batch.rs:141:9",
    ),
];

/// Lines functions print during init, outside any request.
pub(crate) const INIT_LINES: [&str; 4] = [
    "Loaded configuration from SSM parameter /app/prod/config (17 keys)",
    "Connecting to database pool (max_connections=5)",
    "Warming up HTTP client with keep-alive",
    "Feature flags: checkout_v2=on, fraud_scoring=off, new_pricing=on",
];

/// The planted rare term: built so that nothing else the generator writes can contain it.
pub(crate) const RARE_TERM: &str = "Zyzzogeton";

/* The dsvmpool C API: every call, ownership, outputs-only-on-success, abuse (NULLs, invalid
 * UTF-8, too-small buffers, out-of-range indexes and codes) and use of one pool from several
 * threads. Usage: test_api <valid-spec.toml> <spec-with-extension.toml> <scratch-dir> */
#include <dsvmpool.h>

#include <pthread.h>

#include "check.h"

#define SENTINEL ((void *)0x1)

static const char *spec_path;
static const char *extension_spec_path;
static const char *scratch_dir;
static char *spec_text;
static size_t spec_len;

static void test_version(void) {
    CHECK(strcmp(dsvmpool_version(), DSVMPOOL_VERSION) == 0);
    CHECK(DSVMPOOL_VERSION_NUMBER ==
          DSVMPOOL_VERSION_MAJOR * 1000000 + DSVMPOOL_VERSION_MINOR * 1000 + DSVMPOOL_VERSION_PATCH);
    CHECK(strcmp(dsvmpool_result_name(DSVMPOOL_RESULT_OK), "OK") == 0);
    CHECK(strcmp(dsvmpool_result_name(DSVMPOOL_RESULT_VALIDATION), "VALIDATION") == 0);
    CHECK(strcmp(dsvmpool_result_name(DSVMPOOL_RESULT_PANIC), "PANIC") == 0);
    CHECK(strcmp(dsvmpool_result_name(-1), "UNKNOWN") == 0);
    CHECK(strcmp(dsvmpool_result_name(99), "UNKNOWN") == 0);
    CHECK(strcmp(dsvmpool_result_name(0x7fffffff), "UNKNOWN") == 0);
    /* Stable ranges. */
    CHECK(DSVMPOOL_RESULT_NULL_PARAMETER >= 1 && DSVMPOOL_RESULT_INVALID_ARGUMENT <= 99);
    CHECK(DSVMPOOL_RESULT_VALIDATION >= 100 && DSVMPOOL_RESULT_IO <= 199);
    CHECK(DSVMPOOL_RESULT_INTERNAL >= 900 && DSVMPOOL_RESULT_PANIC <= 999);
}

static void test_load_validate_plan(void) {
    dsvmpool_pool *pool = NULL;
    dsvmpool_error *err = NULL;
    char *warnings = NULL, *plan = NULL, *plan2 = NULL;
    char small[8];
    char *big;
    size_t written = 12345;

    CHECK_RESULT(dsvmpool_pool_load_file(spec_path, &pool, &err), DSVMPOOL_RESULT_OK);
    CHECK(pool != NULL);
    CHECK(err == NULL); /* untouched on success */
    CHECK_RESULT(dsvmpool_pool_validate(pool, &warnings, &err), DSVMPOOL_RESULT_OK);
    CHECK(warnings != NULL && warnings[0] == '[');
    CHECK_RESULT(dsvmpool_pool_validate(pool, NULL, NULL), DSVMPOOL_RESULT_OK);

    CHECK_RESULT(dsvmpool_pool_plan(pool, &plan, &err), DSVMPOOL_RESULT_OK);
    CHECK(plan != NULL && plan[0] == '{');
    CHECK(strstr(plan, "\"resources\":[") != NULL);
    CHECK(strstr(plan, "Microsoft.Compute/virtualMachineScaleSets") != NULL);

    /* The same plan from text, and into a caller buffer. */
    {
        dsvmpool_pool *from_text = NULL;
        CHECK_RESULT(dsvmpool_pool_from_toml(spec_text, spec_len, &from_text, &err), DSVMPOOL_RESULT_OK);
        CHECK_RESULT(dsvmpool_pool_plan(from_text, &plan2, NULL), DSVMPOOL_RESULT_OK);
        CHECK(plan2 != NULL && strcmp(plan, plan2) == 0);
        DSVMPOOL_POOL_CLEAR(from_text);
        CHECK(from_text == NULL);
        DSVMPOOL_POOL_CLEAR(from_text); /* a second clear is a harmless free(NULL) */
    }
    big = malloc(strlen(plan) + 1);
    CHECK_RESULT(dsvmpool_pool_plan_into(pool, big, strlen(plan) + 1, &written, &err), DSVMPOOL_RESULT_OK);
    CHECK(written == strlen(plan));
    CHECK(strcmp(big, plan) == 0);
    CHECK_RESULT(dsvmpool_pool_plan_into(pool, big, strlen(plan) + 1, NULL, NULL), DSVMPOOL_RESULT_OK);

    /* Too small by one (no room for the NUL): nothing written, error says how much is needed. */
    memset(big, 'x', strlen(plan));
    written = 12345;
    CHECK_RESULT(dsvmpool_pool_plan_into(pool, big, strlen(plan), &written, &err),
                 DSVMPOOL_RESULT_INSUFFICIENT_SIZE);
    CHECK(written == 12345);
    CHECK(big[0] == 'x');
    CHECK(err != NULL);
    CHECK(dsvmpool_error_result(err) == DSVMPOOL_RESULT_INSUFFICIENT_SIZE);
    CHECK(strcmp(dsvmpool_error_code(err), "INSUFFICIENT_SIZE") == 0);
    {
        char needed[64];
        snprintf(needed, sizeof needed, "\"needed\":%zu", strlen(plan) + 1);
        CHECK(strstr(dsvmpool_error_details(err), needed) != NULL);
    }
    DSVMPOOL_ERROR_CLEAR(err);
    memset(small, 'y', sizeof small);
    CHECK_RESULT(dsvmpool_pool_plan_into(pool, small, sizeof small, &written, NULL),
                 DSVMPOOL_RESULT_INSUFFICIENT_SIZE);
    CHECK(small[0] == 'y' && small[7] == 'y');
    CHECK_RESULT(dsvmpool_pool_plan_into(pool, small, 0, &written, NULL), DSVMPOOL_RESULT_INSUFFICIENT_SIZE);

    /* The plan as text, and the spec round trip: spec JSON -> pool -> the same plan. */
    {
        char *text = NULL, *spec = NULL, *plan3 = NULL;
        dsvmpool_pool *again = NULL;
        CHECK_RESULT(dsvmpool_pool_plan_text(pool, &text, &err), DSVMPOOL_RESULT_OK);
        CHECK(text != NULL && strstr(text, "team") != NULL);
        CHECK_RESULT(dsvmpool_pool_spec(pool, &spec, &err), DSVMPOOL_RESULT_OK);
        CHECK(spec != NULL && spec[0] == '{' && strstr(spec, "\"name\":\"team\"") != NULL);
        CHECK_RESULT(dsvmpool_pool_from_json(spec, strlen(spec), &again, &err), DSVMPOOL_RESULT_OK);
        CHECK_RESULT(dsvmpool_pool_plan(again, &plan3, &err), DSVMPOOL_RESULT_OK);
        CHECK(plan3 != NULL && strcmp(plan3, plan) == 0);
        CHECK_RESULT(dsvmpool_pool_plan_text(NULL, &text, NULL), DSVMPOOL_RESULT_NULL_PARAMETER);
        CHECK_RESULT(dsvmpool_pool_spec(pool, NULL, NULL), DSVMPOOL_RESULT_NULL_PARAMETER);
        DSVMPOOL_STRING_CLEAR(text);
        DSVMPOOL_STRING_CLEAR(spec);
        DSVMPOOL_STRING_CLEAR(plan3);
        DSVMPOOL_POOL_CLEAR(again);
    }

    free(big);
    DSVMPOOL_STRING_CLEAR(plan);
    DSVMPOOL_STRING_CLEAR(plan2);
    DSVMPOOL_STRING_CLEAR(warnings);
    DSVMPOOL_STRING_CLEAR(warnings);
    DSVMPOOL_POOL_CLEAR(pool);
    CHECK(pool == NULL && plan == NULL && warnings == NULL);
}

static void test_validation_error(void) {
    /* Two errors: a bad name and initial above max. */
    static const char bad[] =
        "name = \"Team!\"\n"
        "location = \"westeurope\"\n"
        "resource_group = \"rg-team\"\n"
        "[capacity]\nmin = 0\nmax = 2\ninitial = 5\n"
        "[access]\n"
        "ssh_keys = [\"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ0yLqYbV2kz8m1X1r4cU0kZ9C7t2XQf6m7j1sP3dE1a lead@laptop\"]\n"
        "source_cidrs = [\"203.0.113.0/24\"]\n";
    dsvmpool_pool *pool = NULL;
    dsvmpool_error *err = NULL;
    char *out = SENTINEL;
    char buf[16] = "untouched";
    size_t written = 7;
    dsvmpool_diagnostic d;
    size_t i, n;
    int saw_name = 0, saw_capacity = 0;

    CHECK_RESULT(dsvmpool_pool_from_toml(bad, sizeof bad - 1, &pool, &err), DSVMPOOL_RESULT_OK);
    CHECK_RESULT(dsvmpool_pool_validate(pool, &out, &err), DSVMPOOL_RESULT_VALIDATION);
    CHECK(out == SENTINEL); /* outputs only on success */
    CHECK(err != NULL);
    CHECK(dsvmpool_error_result(err) == DSVMPOOL_RESULT_VALIDATION);
    CHECK(strcmp(dsvmpool_error_code(err), "VALIDATION") == 0);
    CHECK(strstr(dsvmpool_error_message(err), "invalid pool spec") != NULL);
    CHECK(strncmp(dsvmpool_error_details(err), "{\"errors\":[", 11) == 0);
    n = dsvmpool_error_diagnostic_count(err);
    CHECK(n == 2);
    for (i = 0; i < n; i++) {
        CHECK_RESULT(dsvmpool_error_diagnostic(err, i, &d), DSVMPOOL_RESULT_OK);
        CHECK(strcmp(d.severity, "error") == 0);
        CHECK(d.rule[0] != '\0' && d.message[0] != '\0');
        if (strcmp(d.path, "name") == 0) saw_name = 1;
        if (strncmp(d.path, "capacity.", 9) == 0) saw_capacity = 1;
    }
    CHECK(saw_name && saw_capacity);
    memset(&d, 0, sizeof d);
    CHECK_RESULT(dsvmpool_error_diagnostic(err, n, &d), DSVMPOOL_RESULT_INVALID_ARGUMENT);
    CHECK(d.path == NULL);
    CHECK_RESULT(dsvmpool_error_diagnostic(err, (size_t)-1, &d), DSVMPOOL_RESULT_INVALID_ARGUMENT);
    CHECK_RESULT(dsvmpool_error_diagnostic(err, 0, NULL), DSVMPOOL_RESULT_NULL_PARAMETER);
    CHECK_RESULT(dsvmpool_error_diagnostic(NULL, 0, &d), DSVMPOOL_RESULT_NULL_PARAMETER);
    DSVMPOOL_ERROR_CLEAR(err);

    /* plan and plan_into of an invalid pool fail the same way, writing nothing. */
    CHECK_RESULT(dsvmpool_pool_plan(pool, &out, &err), DSVMPOOL_RESULT_VALIDATION);
    CHECK(out == SENTINEL);
    CHECK(dsvmpool_error_diagnostic_count(err) == 2);
    DSVMPOOL_ERROR_CLEAR(err);
    CHECK_RESULT(dsvmpool_pool_plan_into(pool, buf, sizeof buf, &written, &err), DSVMPOOL_RESULT_VALIDATION);
    CHECK(strcmp(buf, "untouched") == 0 && written == 7);
    DSVMPOOL_ERROR_CLEAR(err);
    DSVMPOOL_POOL_CLEAR(pool);

    /* Parse errors are validation errors with a path too. */
    {
        static const char typo[] = "{\"name\": 3, \"location\": \"westeurope\", \"resource_group\": \"rg\"}";
        static const char yaml_bad[] = "name: [unclosed\n";
        dsvmpool_pool *none = SENTINEL;
        CHECK_RESULT(dsvmpool_pool_from_json(typo, sizeof typo - 1, &none, &err), DSVMPOOL_RESULT_VALIDATION);
        CHECK(none == SENTINEL);
        CHECK_RESULT(dsvmpool_error_diagnostic(err, 0, &d), DSVMPOOL_RESULT_OK);
        CHECK(strcmp(d.path, "name") == 0);
        CHECK(strcmp(d.rule, "type") == 0);
        CHECK(d.hint != NULL);
        DSVMPOOL_ERROR_CLEAR(err);
        CHECK_RESULT(dsvmpool_pool_from_yaml(yaml_bad, sizeof yaml_bad - 1, &none, &err), DSVMPOOL_RESULT_VALIDATION);
        CHECK(none == SENTINEL && dsvmpool_error_diagnostic_count(err) >= 1);
        DSVMPOOL_ERROR_CLEAR(err);
        /* Errors are optional. */
        CHECK_RESULT(dsvmpool_pool_from_json(typo, sizeof typo - 1, &none, NULL), DSVMPOOL_RESULT_VALIDATION);
        CHECK(none == SENTINEL);
    }
}

static void test_io_error(void) {
    dsvmpool_pool *pool = SENTINEL;
    dsvmpool_error *err = NULL;
    CHECK_RESULT(dsvmpool_pool_load_file("/nonexistent/dir/pool.toml", &pool, &err), DSVMPOOL_RESULT_IO);
    CHECK(pool == SENTINEL);
    CHECK(strcmp(dsvmpool_error_code(err), "IO") == 0);
    CHECK(strstr(dsvmpool_error_details(err), "\"path\":\"/nonexistent/dir/pool.toml\"") != NULL);
    CHECK(dsvmpool_error_diagnostic_count(err) == 0);
    DSVMPOOL_ERROR_CLEAR(err);
    /* A file name that is not UTF-8 is still a file name (Linux paths are bytes). */
    CHECK_RESULT(dsvmpool_pool_load_file("/nonexistent/\xff\xfe.toml", &pool, &err), DSVMPOOL_RESULT_IO);
    CHECK(pool == SENTINEL);
    DSVMPOOL_ERROR_CLEAR(err);
}

static void test_abuse(void) {
    static const char not_utf8[] = "name = \"t\xc3" "(am\"\n";
    static const char ok_toml[] = "name = \"team\"";
    dsvmpool_pool *pool = SENTINEL;
    dsvmpool_error *err = NULL;
    char *out = SENTINEL;
    char buf[4];
    size_t written = 0;

    /* NULL everywhere: codes, never a crash; with and without an error out-parameter. */
    CHECK_RESULT(dsvmpool_pool_load_file(NULL, &pool, &err), DSVMPOOL_RESULT_NULL_PARAMETER);
    CHECK(strcmp(dsvmpool_error_code(err), "NULL_PARAMETER") == 0);
    CHECK(strstr(dsvmpool_error_details(err), "\"parameter\":\"path\"") != NULL);
    DSVMPOOL_ERROR_CLEAR(err);
    CHECK_RESULT(dsvmpool_pool_load_file(spec_path, NULL, &err), DSVMPOOL_RESULT_NULL_PARAMETER);
    CHECK(strstr(dsvmpool_error_message(err), "pool_out") != NULL);
    DSVMPOOL_ERROR_CLEAR(err);
    CHECK_RESULT(dsvmpool_pool_load_file(NULL, NULL, NULL), DSVMPOOL_RESULT_NULL_PARAMETER);
    CHECK_RESULT(dsvmpool_pool_from_toml(NULL, 0, &pool, NULL), DSVMPOOL_RESULT_NULL_PARAMETER);
    CHECK_RESULT(dsvmpool_pool_from_toml(NULL, 10, &pool, NULL), DSVMPOOL_RESULT_NULL_PARAMETER);
    CHECK_RESULT(dsvmpool_pool_from_yaml(NULL, 0, &pool, NULL), DSVMPOOL_RESULT_NULL_PARAMETER);
    CHECK_RESULT(dsvmpool_pool_from_json(NULL, 0, &pool, NULL), DSVMPOOL_RESULT_NULL_PARAMETER);
    CHECK_RESULT(dsvmpool_pool_from_toml(ok_toml, sizeof ok_toml - 1, NULL, NULL), DSVMPOOL_RESULT_NULL_PARAMETER);
    CHECK(pool == SENTINEL);
    CHECK_RESULT(dsvmpool_pool_validate(NULL, &out, &err), DSVMPOOL_RESULT_NULL_PARAMETER);
    CHECK(strstr(dsvmpool_error_details(err), "\"parameter\":\"pool\"") != NULL);
    DSVMPOOL_ERROR_CLEAR(err);
    CHECK_RESULT(dsvmpool_pool_plan(NULL, &out, NULL), DSVMPOOL_RESULT_NULL_PARAMETER);
    CHECK_RESULT(dsvmpool_pool_plan_into(NULL, buf, sizeof buf, &written, NULL), DSVMPOOL_RESULT_NULL_PARAMETER);
    CHECK_RESULT(dsvmpool_spec_json_schema(NULL), DSVMPOOL_RESULT_NULL_PARAMETER);
    CHECK(out == SENTINEL);
    dsvmpool_pool_free(NULL);
    dsvmpool_error_free(NULL);
    dsvmpool_string_free(NULL);
    CHECK(dsvmpool_error_result(NULL) == DSVMPOOL_RESULT_NULL_PARAMETER);
    CHECK(strcmp(dsvmpool_error_code(NULL), "") == 0);
    CHECK(strcmp(dsvmpool_error_message(NULL), "") == 0);
    CHECK(strcmp(dsvmpool_error_details(NULL), "") == 0);
    CHECK(dsvmpool_error_diagnostic_count(NULL) == 0);

    /* Invalid UTF-8 in text: its own code, with where it breaks. */
    CHECK_RESULT(dsvmpool_pool_from_toml(not_utf8, sizeof not_utf8 - 1, &pool, &err), DSVMPOOL_RESULT_INVALID_UTF8);
    CHECK(pool == SENTINEL);
    CHECK(strcmp(dsvmpool_error_code(err), "INVALID_UTF8") == 0);
    CHECK(strstr(dsvmpool_error_details(err), "\"valid_up_to\":9") != NULL);
    DSVMPOOL_ERROR_CLEAR(err);
    CHECK_RESULT(dsvmpool_pool_from_json("\xff", 1, &pool, NULL), DSVMPOOL_RESULT_INVALID_UTF8);
    CHECK_RESULT(dsvmpool_pool_from_yaml("\xc3", 1, &pool, NULL), DSVMPOOL_RESULT_INVALID_UTF8);

    /* Lengths: only `len` bytes are read (no NUL needed); a length past isize::MAX is refused. */
    {
        char *unterminated = malloc(spec_len + 5);
        memcpy(unterminated, spec_text, spec_len);
        memcpy(unterminated + spec_len, "!!!!!", 5);
        CHECK_RESULT(dsvmpool_pool_from_toml(unterminated, spec_len, &pool, &err), DSVMPOOL_RESULT_OK);
        CHECK(pool != SENTINEL && pool != NULL);
        DSVMPOOL_POOL_CLEAR(pool);
        free(unterminated);
        pool = SENTINEL;
        CHECK_RESULT(dsvmpool_pool_from_toml(ok_toml, 0, &pool, &err), DSVMPOOL_RESULT_VALIDATION);
        CHECK(pool == SENTINEL);
        CHECK(dsvmpool_error_diagnostic_count(err) == 1); /* the first missing field */
        DSVMPOOL_ERROR_CLEAR(err);
    }
    CHECK_RESULT(dsvmpool_pool_from_toml(ok_toml, (size_t)-1, &pool, &err), DSVMPOOL_RESULT_INVALID_ARGUMENT);
    CHECK(pool == SENTINEL);
    DSVMPOOL_ERROR_CLEAR(err);
    /* Text with a NUL inside is parsed as text (and rejected by the TOML parser). */
    CHECK_RESULT(dsvmpool_pool_from_toml("name\0= 1", 8, &pool, &err), DSVMPOOL_RESULT_VALIDATION);
    DSVMPOOL_ERROR_CLEAR(err);

    /* Buffer NULL. */
    pool = NULL;
    CHECK_RESULT(dsvmpool_pool_load_file(spec_path, &pool, NULL), DSVMPOOL_RESULT_OK);
    CHECK_RESULT(dsvmpool_pool_plan_into(pool, NULL, 100, &written, &err), DSVMPOOL_RESULT_NULL_PARAMETER);
    CHECK(strstr(dsvmpool_error_details(err), "\"parameter\":\"buf\"") != NULL);
    DSVMPOOL_ERROR_CLEAR(err);
    CHECK_RESULT(dsvmpool_pool_plan(pool, NULL, &err), DSVMPOOL_RESULT_NULL_PARAMETER);
    DSVMPOOL_ERROR_CLEAR(err);
    DSVMPOOL_POOL_CLEAR(pool);
}

static void test_schema(void) {
    char *schema = NULL;
    CHECK_RESULT(dsvmpool_spec_json_schema(&schema), DSVMPOOL_RESULT_OK);
    CHECK(schema != NULL && strstr(schema, "json-schema.org") != NULL);
    CHECK(strstr(schema, "\"resource_group\"") != NULL);
    DSVMPOOL_STRING_CLEAR(schema);
}

static void test_sim(void) {
    static const char team[] = "{\"users\": 6, \"days\": 5, \"seed\": 3}";
    static const char one[] = "user,start,duration,cpu\nalice,2026-03-02T08:15:00Z,90m,25%\n";
    dsvmpool_pool *pool = NULL;
    dsvmpool_trace *trace = NULL, *again = NULL, *t = SENTINEL;
    dsvmpool_error *err = NULL;
    char *report = NULL, *report2 = NULL, *csv = NULL, *sessions = NULL, *out = SENTINEL;
    dsvmpool_diagnostic d;

    CHECK_RESULT(dsvmpool_pool_load_file(spec_path, &pool, NULL), DSVMPOOL_RESULT_OK);
    CHECK_RESULT(dsvmpool_trace_generate(team, sizeof team - 1, &trace, &err), DSVMPOOL_RESULT_OK);
    CHECK(dsvmpool_trace_session_count(trace) > 5);
    CHECK_RESULT(dsvmpool_pool_simulate(pool, trace, NULL, NULL, 0, &report, &err), DSVMPOOL_RESULT_OK);
    CHECK(report != NULL && strstr(report, "\"policy\":\"spec\"") != NULL);
    CHECK(strstr(report, "\"timeline\":[") != NULL);
    {
        static const char opts[] = "{\"fixed_instances\": 3}";
        CHECK_RESULT(dsvmpool_pool_simulate(pool, trace, "fixed", opts, sizeof opts - 1, &report2, &err),
                     DSVMPOOL_RESULT_OK);
        CHECK(report2 != NULL && strstr(report2, "\"peak_instances\":3") != NULL);
    }
    /* CSV out and back in: the same number of sessions; explicit sessions JSON. */
    CHECK_RESULT(dsvmpool_trace_to_csv(trace, &csv, &err), DSVMPOOL_RESULT_OK);
    CHECK(strncmp(csv, "user,start,duration,cpu\n", 24) == 0);
    CHECK_RESULT(dsvmpool_trace_parse(csv, strlen(csv), &again, &err), DSVMPOOL_RESULT_OK);
    CHECK(dsvmpool_trace_session_count(again) == dsvmpool_trace_session_count(trace));
    DSVMPOOL_TRACE_CLEAR(again);
    CHECK_RESULT(dsvmpool_trace_parse(one, sizeof one - 1, &again, &err), DSVMPOOL_RESULT_OK);
    CHECK_RESULT(dsvmpool_trace_sessions(again, &sessions, &err), DSVMPOOL_RESULT_OK);
    CHECK(strcmp(sessions, "[{\"user\":\"alice\",\"start\":1772439300,\"duration\":5400,\"cpu\":0.25}]") == 0);
    DSVMPOOL_TRACE_CLEAR(again);
    DSVMPOOL_TRACE_CLEAR(again);
    CHECK_RESULT(dsvmpool_trace_generate(NULL, 0, &again, &err), DSVMPOOL_RESULT_OK);
    CHECK(dsvmpool_trace_session_count(again) > 0);
    DSVMPOOL_TRACE_CLEAR(again);

    /* Errors: paths for bad options, policies, teams and traces; outputs untouched. */
    {
        static const char typo[] = "{\"boot_tme\": 1}";
        static const char not_json[] = "{boot_time: 1";
        static const char bad_team[] = "{\"time_zone\": \"Mars/Olympus\"}";
        static const char bad_trace[] = "[{\"user\": \"a\", \"start\": \"yesterday\", \"duration\": 60, \"cpu\": 0.5}]";
        CHECK_RESULT(dsvmpool_pool_simulate(pool, trace, NULL, typo, sizeof typo - 1, &out, &err), DSVMPOOL_RESULT_VALIDATION);
        CHECK(out == SENTINEL);
        CHECK_RESULT(dsvmpool_error_diagnostic(err, 0, &d), DSVMPOOL_RESULT_OK);
        CHECK(strcmp(d.path, "boot_tme") == 0 && strcmp(d.rule, "unknown-field") == 0);
        DSVMPOOL_ERROR_CLEAR(err);
        CHECK_RESULT(dsvmpool_pool_simulate(pool, trace, "magic", NULL, 0, &out, &err), DSVMPOOL_RESULT_VALIDATION);
        CHECK_RESULT(dsvmpool_error_diagnostic(err, 0, &d), DSVMPOOL_RESULT_OK);
        CHECK(strcmp(d.path, "policy") == 0 && d.hint != NULL && strstr(d.hint, "sessions") != NULL);
        DSVMPOOL_ERROR_CLEAR(err);
        CHECK_RESULT(dsvmpool_pool_simulate(pool, trace, "\xff", NULL, 0, &out, NULL), DSVMPOOL_RESULT_INVALID_UTF8);
        CHECK_RESULT(dsvmpool_pool_simulate(pool, trace, NULL, not_json, sizeof not_json - 1, &out, &err),
                     DSVMPOOL_RESULT_INVALID_ARGUMENT);
        CHECK(strstr(dsvmpool_error_details(err), "options_json") != NULL);
        DSVMPOOL_ERROR_CLEAR(err);
        CHECK_RESULT(dsvmpool_trace_generate(bad_team, sizeof bad_team - 1, &t, &err), DSVMPOOL_RESULT_VALIDATION);
        CHECK(t == SENTINEL);
        CHECK_RESULT(dsvmpool_error_diagnostic(err, 0, &d), DSVMPOOL_RESULT_OK);
        CHECK(strcmp(d.path, "time_zone") == 0);
        DSVMPOOL_ERROR_CLEAR(err);
        CHECK_RESULT(dsvmpool_trace_parse(bad_trace, sizeof bad_trace - 1, &t, &err), DSVMPOOL_RESULT_VALIDATION);
        CHECK_RESULT(dsvmpool_error_diagnostic(err, 0, &d), DSVMPOOL_RESULT_OK);
        CHECK(strncmp(d.path, "sessions[0]", 11) == 0);
        DSVMPOOL_ERROR_CLEAR(err);
        CHECK(t == SENTINEL);
    }
    /* NULLs. */
    CHECK_RESULT(dsvmpool_pool_simulate(NULL, trace, NULL, NULL, 0, &out, NULL), DSVMPOOL_RESULT_NULL_PARAMETER);
    CHECK_RESULT(dsvmpool_pool_simulate(pool, NULL, NULL, NULL, 0, &out, NULL), DSVMPOOL_RESULT_NULL_PARAMETER);
    CHECK_RESULT(dsvmpool_pool_simulate(pool, trace, NULL, NULL, 0, NULL, NULL), DSVMPOOL_RESULT_NULL_PARAMETER);
    CHECK_RESULT(dsvmpool_trace_parse(NULL, 0, &t, NULL), DSVMPOOL_RESULT_NULL_PARAMETER);
    CHECK_RESULT(dsvmpool_trace_parse("x", 1, NULL, NULL), DSVMPOOL_RESULT_NULL_PARAMETER);
    CHECK_RESULT(dsvmpool_trace_generate(NULL, 0, NULL, NULL), DSVMPOOL_RESULT_NULL_PARAMETER);
    CHECK_RESULT(dsvmpool_trace_to_csv(NULL, &out, NULL), DSVMPOOL_RESULT_NULL_PARAMETER);
    CHECK_RESULT(dsvmpool_trace_sessions(trace, NULL, NULL), DSVMPOOL_RESULT_NULL_PARAMETER);
    CHECK(dsvmpool_trace_session_count(NULL) == 0);
    CHECK(out == SENTINEL && t == SENTINEL);
    dsvmpool_trace_free(NULL);

    DSVMPOOL_STRING_CLEAR(report);
    DSVMPOOL_STRING_CLEAR(report2);
    DSVMPOOL_STRING_CLEAR(csv);
    DSVMPOOL_STRING_CLEAR(sessions);
    DSVMPOOL_TRACE_CLEAR(trace);
    DSVMPOOL_POOL_CLEAR(pool);
}

static int file_size(const char *path) {
    FILE *f = fopen(path, "rb");
    long n;
    if (f == NULL) return -1;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fclose(f);
    return (int)n;
}

static void test_render(void) {
    dsvmpool_pool *pool = NULL, *ext = NULL;
    dsvmpool_error *err = NULL;
    char *json = NULL, *plain = NULL, *tagged = NULL, *out = SENTINEL;
    char *buf;
    char path[4096];
    size_t written = 0;

    CHECK_RESULT(dsvmpool_pool_load_file(spec_path, &pool, NULL), DSVMPOOL_RESULT_OK);
    CHECK_RESULT(dsvmpool_pool_render(pool, 0, NULL, &json, &err), DSVMPOOL_RESULT_OK);
    CHECK(json != NULL && strncmp(json, "{\"template\":{", 13) == 0);
    CHECK(strstr(json, "deploymentTemplate.json") != NULL);
    CHECK(strstr(json, "\"user_data\":\"#cloud-config") != NULL);
    CHECK(strstr(json, "\"secure_parameters\":[") != NULL);
    CHECK(strstr(json, "\"scale_set\":\"team-vmss\"") != NULL);
    CHECK(strstr(json, "\"_generator\"") != NULL);
    CHECK_RESULT(dsvmpool_pool_render(pool, DSVMPOOL_RENDER_NO_GENERATOR_METADATA, NULL, &plain, NULL),
                 DSVMPOOL_RESULT_OK);
    CHECK(plain != NULL && strstr(plain, "\"_generator\"") == NULL);

    /* The update tag lands on the scale set's extensions. */
    CHECK_RESULT(dsvmpool_pool_load_file(extension_spec_path, &ext, NULL), DSVMPOOL_RESULT_OK);
    CHECK_RESULT(dsvmpool_pool_render(ext, 0, "run-2", &tagged, &err), DSVMPOOL_RESULT_OK);
    CHECK(tagged != NULL && strstr(tagged, "\"forceUpdateTag\":\"run-2\"") != NULL);

    /* Into a buffer: exact fit, one byte short. */
    buf = malloc(strlen(json) + 1);
    CHECK_RESULT(dsvmpool_pool_render_into(pool, 0, NULL, buf, strlen(json) + 1, &written, &err), DSVMPOOL_RESULT_OK);
    CHECK(written == strlen(json) && strcmp(buf, json) == 0);
    buf[0] = 'x';
    written = 7;
    CHECK_RESULT(dsvmpool_pool_render_into(pool, 0, NULL, buf, strlen(json), &written, &err),
                 DSVMPOOL_RESULT_INSUFFICIENT_SIZE);
    CHECK(buf[0] == 'x' && written == 7);
    DSVMPOOL_ERROR_CLEAR(err);
    free(buf);

    /* To a directory: every file; a regular file in the way is an I/O error. */
    snprintf(path, sizeof path, "%s/out", scratch_dir);
    CHECK_RESULT(dsvmpool_pool_render_to_dir(pool, 0, NULL, path, &err), DSVMPOOL_RESULT_OK);
    snprintf(path, sizeof path, "%s/out/azuredeploy.json", scratch_dir);
    CHECK(file_size(path) > 1000);
    snprintf(path, sizeof path, "%s/out/azuredeploy.parameters.json", scratch_dir);
    CHECK(file_size(path) > 10);
    snprintf(path, sizeof path, "%s/blocked", scratch_dir);
    {
        FILE *f = fopen(path, "w");
        CHECK(f != NULL);
        if (f != NULL) fclose(f);
    }
    CHECK_RESULT(dsvmpool_pool_render_to_dir(pool, 0, NULL, path, &err), DSVMPOOL_RESULT_IO);
    CHECK(strstr(dsvmpool_error_details(err), "blocked") != NULL);
    DSVMPOOL_ERROR_CLEAR(err);

    /* Abuse. */
    CHECK_RESULT(dsvmpool_pool_render(pool, 0x80, NULL, &out, &err), DSVMPOOL_RESULT_INVALID_ARGUMENT);
    CHECK(strstr(dsvmpool_error_details(err), "\"parameter\":\"flags\"") != NULL);
    DSVMPOOL_ERROR_CLEAR(err);
    CHECK_RESULT(dsvmpool_pool_render(pool, 0, "\xff", &out, NULL), DSVMPOOL_RESULT_INVALID_UTF8);
    CHECK_RESULT(dsvmpool_pool_render(NULL, 0, NULL, &out, NULL), DSVMPOOL_RESULT_NULL_PARAMETER);
    CHECK_RESULT(dsvmpool_pool_render(pool, 0, NULL, NULL, NULL), DSVMPOOL_RESULT_NULL_PARAMETER);
    CHECK_RESULT(dsvmpool_pool_render_into(pool, 0, NULL, NULL, 10, &written, NULL), DSVMPOOL_RESULT_NULL_PARAMETER);
    CHECK_RESULT(dsvmpool_pool_render_to_dir(pool, 0, NULL, NULL, NULL), DSVMPOOL_RESULT_NULL_PARAMETER);
    CHECK_RESULT(dsvmpool_pool_render_to_dir(NULL, 0, NULL, scratch_dir, NULL), DSVMPOOL_RESULT_NULL_PARAMETER);
    CHECK(out == SENTINEL);
    {
        static const char bad[] = "name = \"Team!\"\nlocation = \"westeurope\"\nresource_group = \"rg\"\n";
        dsvmpool_pool *invalid = NULL;
        CHECK_RESULT(dsvmpool_pool_from_toml(bad, sizeof bad - 1, &invalid, NULL), DSVMPOOL_RESULT_OK);
        CHECK_RESULT(dsvmpool_pool_render(invalid, 0, NULL, &out, &err), DSVMPOOL_RESULT_VALIDATION);
        CHECK(out == SENTINEL && dsvmpool_error_diagnostic_count(err) >= 1);
        DSVMPOOL_ERROR_CLEAR(err);
        DSVMPOOL_POOL_CLEAR(invalid);
    }

    DSVMPOOL_STRING_CLEAR(json);
    DSVMPOOL_STRING_CLEAR(plain);
    DSVMPOOL_STRING_CLEAR(tagged);
    DSVMPOOL_POOL_CLEAR(ext);
    DSVMPOOL_POOL_CLEAR(pool);
}

/* One pool, several threads planning at once: the same result everywhere. */
#define THREADS 4
#define ROUNDS 25

struct job {
    const dsvmpool_pool *pool;
    const char *expected;
    int mismatches;
};

static void *worker(void *arg) {
    struct job *job = arg;
    int i;
    for (i = 0; i < ROUNDS; i++) {
        char *plan = NULL;
        if (dsvmpool_pool_plan(job->pool, &plan, NULL) != DSVMPOOL_RESULT_OK || strcmp(plan, job->expected) != 0) {
            job->mismatches++;
        }
        if (dsvmpool_pool_validate(job->pool, NULL, NULL) != DSVMPOOL_RESULT_OK) job->mismatches++;
        dsvmpool_string_free(plan);
    }
    return NULL;
}

static void test_threads(void) {
    dsvmpool_pool *pool = NULL;
    char *expected = NULL;
    pthread_t threads[THREADS];
    struct job jobs[THREADS];
    int i;
    CHECK_RESULT(dsvmpool_pool_load_file(spec_path, &pool, NULL), DSVMPOOL_RESULT_OK);
    CHECK_RESULT(dsvmpool_pool_plan(pool, &expected, NULL), DSVMPOOL_RESULT_OK);
    for (i = 0; i < THREADS; i++) {
        jobs[i].pool = pool;
        jobs[i].expected = expected;
        jobs[i].mismatches = 0;
        CHECK(pthread_create(&threads[i], NULL, worker, &jobs[i]) == 0);
    }
    for (i = 0; i < THREADS; i++) {
        CHECK(pthread_join(threads[i], NULL) == 0);
        CHECK(jobs[i].mismatches == 0);
    }
    dsvmpool_string_free(expected);
    dsvmpool_pool_free(pool);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s <valid-spec.toml> <spec-with-extension.toml> <scratch-dir>\n", argv[0]);
        return 2;
    }
    spec_path = argv[1];
    extension_spec_path = argv[2];
    scratch_dir = argv[3];
    spec_text = read_file(spec_path, &spec_len);
    if (spec_text == NULL) {
        fprintf(stderr, "cannot read %s\n", spec_path);
        return 2;
    }
    test_version();
    test_load_validate_plan();
    test_validation_error();
    test_io_error();
    test_abuse();
    test_schema();
    test_sim();
    test_render();
    test_threads();
    free(spec_text);
    return check_summary("test_api");
}

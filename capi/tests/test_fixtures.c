/* Replays the golden spec fixtures shared by every suite: each invalid case must fail with
 * exactly the expected error paths and rules (through the file and the text entry points);
 * each valid case must validate, plan and render.
 *
 * Usage: test_fixtures <manifest>, where each manifest line is either
 *   valid<TAB><file>
 *   invalid<TAB><file><TAB><sorted paths><TAB><sorted rules>
 * with list items separated by the byte 0x1f (written from tests/fixtures/specs/invalid/
 * expected.json by the Rust test driver). */
#include <dsvmpool.h>

#include "check.h"

#define SEP '\x1f'

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The sorted `path` (field = 0) or `rule` (field = 1) of every diagnostic, joined by SEP. */
static char *joined(const dsvmpool_error *err, int field) {
    size_t n = dsvmpool_error_diagnostic_count(err), i, total = 1;
    const char **items = calloc(n ? n : 1, sizeof *items);
    char *out;
    for (i = 0; i < n; i++) {
        dsvmpool_diagnostic d;
        if (dsvmpool_error_diagnostic(err, i, &d) != DSVMPOOL_RESULT_OK) items[i] = "<error>";
        else items[i] = field == 0 ? d.path : d.rule;
        total += strlen(items[i]) + 1;
    }
    qsort(items, n, sizeof *items, cmp_str);
    out = calloc(total, 1);
    for (i = 0; i < n; i++) {
        if (i > 0) strncat(out, "\x1f", 2);
        strcat(out, items[i]);
    }
    free(items);
    return out;
}

static const char *ext(const char *file) {
    const char *dot = strrchr(file, '.');
    return dot ? dot + 1 : "";
}

typedef dsvmpool_result (*parse_fn)(const char *, size_t, dsvmpool_pool **, dsvmpool_error **);

static parse_fn parser_for(const char *file) {
    if (strcmp(ext(file), "toml") == 0) return dsvmpool_pool_from_toml;
    if (strcmp(ext(file), "yaml") == 0 || strcmp(ext(file), "yml") == 0) return dsvmpool_pool_from_yaml;
    if (strcmp(ext(file), "json") == 0) return dsvmpool_pool_from_json;
    return NULL;
}

/* Load `file` (how = 0: from the file, 1: from its text); returns the result of validation. */
static dsvmpool_result load_and_validate(const char *file, int how, dsvmpool_error **err) {
    dsvmpool_pool *pool = NULL;
    dsvmpool_result r;
    if (how == 0) {
        r = dsvmpool_pool_load_file(file, &pool, err);
    } else {
        size_t len = 0;
        char *text = read_file(file, &len);
        parse_fn parse = parser_for(file);
        if (text == NULL || parse == NULL) {
            free(text);
            return DSVMPOOL_RESULT_INVALID_ARGUMENT;
        }
        r = parse(text, len, &pool, err);
        free(text);
    }
    if (r == DSVMPOOL_RESULT_OK) r = dsvmpool_pool_validate(pool, NULL, err);
    dsvmpool_pool_free(pool);
    return r;
}

static void check_invalid(const char *file, const char *want_paths, const char *want_rules) {
    int how;
    for (how = 0; how < 2; how++) {
        dsvmpool_error *err = NULL;
        dsvmpool_result r = load_and_validate(file, how, &err);
        if (r != DSVMPOOL_RESULT_VALIDATION) {
            checks_failed++;
            fprintf(stderr, "%s (%s): %s, want VALIDATION\n", file, how ? "text" : "file", dsvmpool_result_name(r));
        } else {
            char *paths = joined(err, 0), *rules = joined(err, 1);
            size_t i, n = dsvmpool_error_diagnostic_count(err);
            if (strcmp(paths, want_paths) == 0 && strcmp(rules, want_rules) == 0) {
                checks_passed++;
            } else {
                checks_failed++;
                fprintf(stderr, "%s (%s): got paths [%s] rules [%s], want [%s] [%s]\n", file,
                        how ? "text" : "file", paths, rules, want_paths, want_rules);
            }
            for (i = 0; i < n; i++) {
                dsvmpool_diagnostic d;
                CHECK(dsvmpool_error_diagnostic(err, i, &d) == DSVMPOOL_RESULT_OK && d.message[0] != '\0' &&
                      d.hint != NULL && strcmp(d.severity, "error") == 0);
            }
            free(paths);
            free(rules);
        }
        dsvmpool_error_free(err);
    }
}

static void check_valid(const char *file) {
    dsvmpool_pool *pool = NULL;
    dsvmpool_error *err = NULL;
    char *plan = NULL, *buf;
    size_t written = 0;
    dsvmpool_result r = dsvmpool_pool_load_file(file, &pool, &err);
    if (r == DSVMPOOL_RESULT_OK) r = dsvmpool_pool_plan(pool, &plan, &err);
    if (r != DSVMPOOL_RESULT_OK) {
        checks_failed++;
        fprintf(stderr, "%s: %s: %s\n", file, dsvmpool_result_name(r), dsvmpool_error_message(err));
    } else {
        checks_passed++;
        CHECK(load_and_validate(file, 1, NULL) == DSVMPOOL_RESULT_OK);
        buf = malloc(strlen(plan) + 1);
        CHECK(dsvmpool_pool_plan_into(pool, buf, strlen(plan) + 1, &written, NULL) == DSVMPOOL_RESULT_OK);
        CHECK(written == strlen(plan) && strcmp(buf, plan) == 0);
        free(buf);
        {
            /* A valid spec renders, or is one Azure would reject (RENDER). */
            char *art = NULL;
            dsvmpool_result rr = dsvmpool_pool_render(pool, 0, NULL, &art, NULL);
            CHECK(rr == DSVMPOOL_RESULT_OK || rr == DSVMPOOL_RESULT_RENDER);
            CHECK((rr == DSVMPOOL_RESULT_OK) == (art != NULL));
            dsvmpool_string_free(art);
        }
    }
    dsvmpool_string_free(plan);
    dsvmpool_error_free(err);
    dsvmpool_pool_free(pool);
}

int main(int argc, char **argv) {
    FILE *manifest;
    char line[8192];
    int invalid = 0, valid = 0;
    if (argc != 2 || (manifest = fopen(argv[1], "r")) == NULL) {
        fprintf(stderr, "usage: %s <manifest>\n", argv[0]);
        return 2;
    }
    while (fgets(line, sizeof line, manifest) != NULL) {
        char *fields[4] = {NULL, NULL, NULL, NULL};
        char *cursor = line;
        int n = 0;
        line[strcspn(line, "\n")] = '\0';
        while (n < 4) {
            fields[n++] = cursor;
            cursor = strchr(cursor, '\t');
            if (cursor == NULL) break;
            *cursor++ = '\0';
        }
        if (n == 2 && strcmp(fields[0], "valid") == 0) {
            check_valid(fields[1]);
            valid++;
        } else if (n == 4 && strcmp(fields[0], "invalid") == 0) {
            check_invalid(fields[1], fields[2], fields[3]);
            invalid++;
        } else {
            fprintf(stderr, "bad manifest line: %s\n", line);
            checks_failed++;
        }
    }
    fclose(manifest);
    printf("test_fixtures: %d invalid and %d valid fixtures\n", invalid, valid);
    CHECK(invalid > 0 && valid > 0);
    return check_summary("test_fixtures");
}

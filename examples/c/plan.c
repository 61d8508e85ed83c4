/* plan: validate a pool spec and print its plan as JSON, or every problem with its field path.
 *
 *   ./plan ../team.toml            # exit 0, the plan JSON on stdout
 *   ./plan broken.toml             # exit 1, "path: message [rule]" lines on stderr
 */
#include <dsvmpool.h>

#include <stdio.h>

int main(int argc, char **argv) {
    dsvmpool_pool *pool = NULL;
    dsvmpool_error *err = NULL;
    char *warnings = NULL;
    char *plan = NULL;
    size_t i;
    int status = 0;

    if (argc != 2) {
        fprintf(stderr, "usage: %s <pool spec (.toml, .yaml, .json)>\n", argv[0]);
        return 2;
    }
    if (dsvmpool_pool_load_file(argv[1], &pool, &err) != DSVMPOOL_RESULT_OK ||
        dsvmpool_pool_validate(pool, &warnings, &err) != DSVMPOOL_RESULT_OK ||
        dsvmpool_pool_plan(pool, &plan, &err) != DSVMPOOL_RESULT_OK) {
        fprintf(stderr, "%s: %s\n", argv[1], dsvmpool_error_code(err));
        for (i = 0; i < dsvmpool_error_diagnostic_count(err); i++) {
            dsvmpool_diagnostic d;
            if (dsvmpool_error_diagnostic(err, i, &d) == DSVMPOOL_RESULT_OK) {
                fprintf(stderr, "  %s: %s [%s]%s%s\n", d.path[0] ? d.path : "<root>", d.message, d.rule,
                        d.hint ? " hint: " : "", d.hint ? d.hint : "");
            }
        }
        if (dsvmpool_error_diagnostic_count(err) == 0) fprintf(stderr, "  %s\n", dsvmpool_error_message(err));
        status = 1;
    } else {
        fprintf(stderr, "dsvmpool %s: %s is valid; warnings: %s\n", dsvmpool_version(), argv[1], warnings);
        printf("%s\n", plan);
    }
    DSVMPOOL_STRING_CLEAR(plan);
    DSVMPOOL_STRING_CLEAR(warnings);
    DSVMPOOL_ERROR_CLEAR(err);
    DSVMPOOL_POOL_CLEAR(pool);
    return status;
}

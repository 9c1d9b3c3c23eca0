/*
 * libFuzzer target for the manifest loader: arbitrary bytes through the
 * YAML tree, the schema decoder and the whole-set checks. The loader must
 * never crash, leak, hang or report an error without a location in the
 * file it was given. Run by tests/fuzz/run.sh (make fuzz) with a seed
 * corpus of the examples and the invalid-manifest corpus.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag_list diags = DIAG_LIST_INIT;
	struct manifest_set *set = NULL;
	size_t i;
	int rc;

	manifest_set_new(&set, NULL);
	rc = manifest_set_add_buffer(set, "fuzz.yaml", (const char *)data, size,
				     &diags);
	rc |= manifest_set_finish(set, &diags);
	/* an error is reported exactly when the set is refused */
	if ((rc < 0) != (diags.n > 0))
		abort();
	for (i = 0; i < diags.n; i++)
		if (strcmp(diags.items[i].file, "fuzz.yaml") ||
		    diags.items[i].line < 1 || !diags.items[i].msg[0])
			abort();
	manifest_set_free(set);
	diag_release(&diags);
	return 0;
}

/*
 * ModelPackage: the approval of a model version in the registry
 * (DescribeModelPackage, UpdateModelPackage). The controller does not
 * create packages; training pipelines register them.
 */
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "reconciler.h"

static int observe_packages(struct engine *en, struct err *e)
{
	struct buf req = BUF_INIT, out = BUF_INIT;
	struct err miss = ERR_INIT;
	size_t i;
	int rc = 0;

	for (i = 0; i < en->want.n && rc == 0; i++) {
		const struct desired_resource *r = &en->want.items[i];
		struct live *l;

		if (r->kind != DESIRED_MODEL_PACKAGE)
			continue;
		buf_clear(&req);
		engine_request(&req,
			       json_pack("{s:s}", "ModelPackageName", r->name));
		if (aws_json(en->aws, &aws_sagemaker, "DescribeModelPackage",
			     req.ptr, &out, &miss) < 0) {
			/* not registered (yet): the plan says so */
			if (strcmp(miss.aws_code, "ValidationException")) {
				*e = miss;
				rc = e->code;
			}
			continue;
		}
		l = engine_live_add(en, DESIRED_MODEL_PACKAGE, r->name,
				    r->name);
		l->owned = true; /* approval is ours to set, nothing else */
		l->content = engine_json_parse(out.ptr, out.len);
	}
	buf_release(&req);
	buf_release(&out);
	return rc;
}

static void diff_package(struct engine *en, const struct desired_resource *want,
			 struct live *live)
{
	static const char *const fields[] = { "ModelApprovalStatus", NULL };
	json_t *w = engine_json_parse(want->request, strlen(want->request));
	struct buf d = BUF_INIT;

	engine_compare(&d, live->content, w, fields);
	if (d.len)
		engine_plan_add(en, DESIRED_MODEL_PACKAGE, CHANGE_UPDATE,
				want->name, want->manifest, live->arn, want,
				false, d.ptr);
	json_decref(w);
	buf_release(&d);
}

static int apply_package(struct engine *en, struct change *ch, struct err *e)
{
	struct buf out = BUF_INIT;
	int rc = engine_call(en, &aws_sagemaker, "UpdateModelPackage",
			     ch->want->request, &out, e);

	buf_release(&out);
	return rc;
}

const struct reconciler rec_package = {
	1,
	DESIRED_MODEL_PACKAGE,
	observe_packages,
	diff_package,
	apply_package,
	NULL,
};

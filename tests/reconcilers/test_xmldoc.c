/*
 * Unit tests for reconcilers/aws/xmldoc: the STS, SNS and error answers
 * AWS sends in the query protocol, lookups by path and by search, and
 * the limits that keep a hostile answer from costing time or memory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "xmldoc.h"

static struct xmldoc *parse_ok_len(const char *xml, size_t len)
{
	struct xmldoc *doc = NULL;
	struct err e = ERR_INIT;

	if (xmldoc_parse(&doc, xml, len, &e) < 0)
		fail_msg("parse failed: %s", e.msg);
	assert_non_null(doc);
	assert_int_equal(e.code, ERR_OK);
	return doc;
}

static struct xmldoc *parse_ok(const char *xml)
{
	return parse_ok_len(xml, strlen(xml));
}

/* expects failure; returns the error and checks nothing came back */
static struct err parse_bad(const char *xml, size_t len)
{
	struct xmldoc *doc = (struct xmldoc *)&doc; /* not NULL on purpose */
	struct err e = ERR_INIT;

	assert_int_equal(xmldoc_parse(&doc, xml, len, &e), ERR_INVALID);
	assert_int_equal(e.code, ERR_INVALID);
	assert_null(doc);
	return e;
}

static void assert_contains(const char *s, const char *part)
{
	if (!strstr(s, part))
		fail_msg("'%s' does not contain '%s'", s, part);
}

/* `depth` nested <a> elements, innermost holding "x" */
static char *nested(int depth)
{
	struct buf b = BUF_INIT;
	int i;

	for (i = 0; i < depth; i++)
		buf_puts(&b, "<a>");
	buf_puts(&b, "x");
	for (i = 0; i < depth; i++)
		buf_puts(&b, "</a>");
	return buf_detach(&b);
}

static void test_xmldoc__get_caller_identity(void **state)
{
	const char *xml =
		"<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
		"  <GetCallerIdentityResult>\n"
		"    <Arn>arn:aws:iam::123456789012:user/Alice</Arn>\n"
		"    <UserId>AIDAJQABLZS4A3QDU576Q</UserId>\n"
		"    <Account>123456789012</Account>\n"
		"  </GetCallerIdentityResult>\n"
		"  <ResponseMetadata>\n"
		"    <RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId>\n"
		"  </ResponseMetadata>\n"
		"</GetCallerIdentityResponse>\n";
	struct xmldoc *doc = parse_ok(xml);
	const struct xmlnode *root = xmldoc_root(doc);

	(void)state;
	assert_non_null(root);
	assert_string_equal(root->name, "GetCallerIdentityResponse");
	assert_null(root->parent);
	assert_string_equal(xmldoc_text(root,
					"GetCallerIdentityResult/Account"),
			    "123456789012");
	assert_string_equal(xmldoc_text(root, "GetCallerIdentityResult/Arn"),
			    "arn:aws:iam::123456789012:user/Alice");
	assert_string_equal(xmldoc_text(root, "GetCallerIdentityResult/UserId"),
			    "AIDAJQABLZS4A3QDU576Q");
	assert_string_equal(xmldoc_text(root, "ResponseMetadata/RequestId"),
			    "01234567-89ab-cdef-0123-456789abcdef");
	xmldoc_free(doc);
}

static void test_xmldoc__assume_role_credentials(void **state)
{
	const char *xml =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
		"  <AssumeRoleResult>\n"
		"    <SourceIdentity>DevUser123</SourceIdentity>\n"
		"    <AssumedRoleUser>\n"
		"      <Arn>arn:aws:sts::123456789012:assumed-role/demo/John</Arn>\n"
		"      <AssumedRoleId>ARO123EXAMPLE123:John</AssumedRoleId>\n"
		"    </AssumedRoleUser>\n"
		"    <Credentials>\n"
		"      <AccessKeyId>ASIAIOSFODNN7EXAMPLE</AccessKeyId>\n"
		"      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY</SecretAccessKey>\n"
		"      <SessionToken>AQoDYXdzEPT//////////wEXAMPLEtc764+bNk=</SessionToken>\n"
		"      <Expiration>2019-11-09T13:34:41Z</Expiration>\n"
		"    </Credentials>\n"
		"    <PackedPolicySize>6</PackedPolicySize>\n"
		"  </AssumeRoleResult>\n"
		"  <ResponseMetadata>\n"
		"    <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>\n"
		"  </ResponseMetadata>\n"
		"</AssumeRoleResponse>\n";
	struct xmldoc *doc = parse_ok(xml);
	const struct xmlnode *creds;

	(void)state;
	creds = xmldoc_find(xmldoc_root(doc), "AssumeRoleResult/Credentials");
	assert_non_null(creds);
	assert_string_equal(creds->name, "Credentials");
	assert_string_equal(xmldoc_text(creds, "AccessKeyId"),
			    "ASIAIOSFODNN7EXAMPLE");
	assert_string_equal(xmldoc_text(creds, "SecretAccessKey"),
			    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY");
	assert_string_equal(xmldoc_text(creds, "SessionToken"),
			    "AQoDYXdzEPT//////////wEXAMPLEtc764+bNk=");
	assert_string_equal(xmldoc_text(creds, "Expiration"),
			    "2019-11-09T13:34:41Z");
	/* the Arn under AssumedRoleUser is not the one under Credentials */
	assert_null(xmldoc_find(creds, "Arn"));
	assert_string_equal(xmldoc_text(xmldoc_root(doc),
					"AssumeRoleResult/AssumedRoleUser/Arn"),
			    "arn:aws:sts::123456789012:assumed-role/demo/John");
	xmldoc_free(doc);
}

static void test_xmldoc__query_error_response(void **state)
{
	const char *xml =
		"<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
		"<Error><Type>Sender</Type><Code>Throttling</Code>"
		"<Message>Rate exceeded</Message></Error>"
		"<RequestId>abc</RequestId></ErrorResponse>";
	struct xmldoc *doc = parse_ok(xml);
	const struct xmlnode *root = xmldoc_root(doc);

	(void)state;
	assert_string_equal(root->name, "ErrorResponse");
	assert_string_equal(xmldoc_text(root, "Error/Type"), "Sender");
	assert_string_equal(xmldoc_text(root, "Error/Code"), "Throttling");
	assert_string_equal(xmldoc_text(root, "Error/Message"),
			    "Rate exceeded");
	assert_string_equal(xmldoc_text(root, "RequestId"), "abc");
	/* the same reader finds both layouts by search */
	assert_string_equal(xmldoc_search(root, "Code")->text, "Throttling");
	assert_null(xmldoc_search(root, "RequestID"));
	xmldoc_free(doc);
}

static void test_xmldoc__errors_response_layout(void **state)
{
	const char *xml =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<Response><Errors><Error><Code>InvalidParameterValue</Code>"
		"<Message>Value (x) for parameter y is invalid</Message>"
		"</Error></Errors>"
		"<RequestID>5b8b0d6c-2d8e-4b5e-a7c2-2f0d1d3c4e5f</RequestID>"
		"</Response>";
	struct xmldoc *doc = parse_ok(xml);
	const struct xmlnode *root = xmldoc_root(doc);
	const struct xmlnode *error;

	(void)state;
	assert_string_equal(root->name, "Response");
	assert_string_equal(xmldoc_text(root, "Errors/Error/Code"),
			    "InvalidParameterValue");
	assert_string_equal(xmldoc_text(root, "Errors/Error/Message"),
			    "Value (x) for parameter y is invalid");
	assert_string_equal(xmldoc_text(root, "RequestID"),
			    "5b8b0d6c-2d8e-4b5e-a7c2-2f0d1d3c4e5f");
	error = xmldoc_search(root, "Error");
	assert_non_null(error);
	assert_string_equal(error->parent->name, "Errors");
	assert_string_equal(xmldoc_text(error, "Code"),
			    "InvalidParameterValue");
	xmldoc_free(doc);
}

static void test_xmldoc__sns_publish(void **state)
{
	const char *xml =
		"<PublishResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\">\n"
		"  <PublishResult>\n"
		"    <MessageId>567910cd-659e-55d4-8ccb-5aaf14679dc0</MessageId>\n"
		"  </PublishResult>\n"
		"  <ResponseMetadata>\n"
		"    <RequestId>d74b8436-ae13-5ab4-a9ff-ce54dfea72a0</RequestId>\n"
		"  </ResponseMetadata>\n"
		"</PublishResponse>\n";
	struct xmldoc *doc = parse_ok(xml);
	const struct xmlnode *root = xmldoc_root(doc);

	(void)state;
	assert_string_equal(xmldoc_text(root, "PublishResult/MessageId"),
			    "567910cd-659e-55d4-8ccb-5aaf14679dc0");
	assert_string_equal(xmldoc_search(root, "RequestId")->text,
			    "d74b8436-ae13-5ab4-a9ff-ce54dfea72a0");
	/* whitespace between elements is kept as the parent's text */
	assert_string_equal(xmldoc_find(root, "PublishResult")->text,
			    "\n    \n  ");
	xmldoc_free(doc);
}

static void test_xmldoc__prefixed_names_are_local(void **state)
{
	const char *xml =
		"<sts:GetCallerIdentityResponse xmlns:sts=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
		"<sts:GetCallerIdentityResult>"
		"<sts:Account>123456789012</sts:Account>"
		"<other:Arn>arn:aws:iam::123456789012:root</other:Arn>"
		"</sts:GetCallerIdentityResult>"
		"</sts:GetCallerIdentityResponse>";
	struct xmldoc *doc = parse_ok(xml);
	const struct xmlnode *root = xmldoc_root(doc);

	(void)state;
	assert_string_equal(root->name, "GetCallerIdentityResponse");
	assert_string_equal(xmldoc_text(root,
					"GetCallerIdentityResult/Account"),
			    "123456789012");
	/* an undeclared prefix is dropped the same way */
	assert_string_equal(xmldoc_text(root, "GetCallerIdentityResult/Arn"),
			    "arn:aws:iam::123456789012:root");
	assert_null(xmldoc_find(root, "sts:GetCallerIdentityResult"));
	xmldoc_free(doc);
}

static void test_xmldoc__entities_are_decoded(void **state)
{
	const char *xml =
		"<r><m>a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos;"
		" &#65;&#x42; <![CDATA[<raw & kept>]]></m></r>";
	struct xmldoc *doc = parse_ok(xml);

	(void)state;
	assert_string_equal(xmldoc_text(xmldoc_root(doc), "m"),
			    "a & b <c> \"d\" 'e' AB <raw & kept>");
	xmldoc_free(doc);
}

static void test_xmldoc__text_is_direct_character_data(void **state)
{
	struct xmldoc *doc =
		parse_ok("<r>one<a>inner</a>two<b/><c></c><d attr=\"v\"/></r>");
	const struct xmlnode *root = xmldoc_root(doc);

	(void)state;
	assert_string_equal(root->text, "onetwo");
	assert_string_equal(xmldoc_text(root, "a"), "inner");
	assert_string_equal(xmldoc_text(root, "b"), "");
	assert_string_equal(xmldoc_text(root, "c"), "");
	assert_string_equal(xmldoc_text(root, "d"), "");
	assert_null(xmldoc_find(root, "d")->first_child);
	xmldoc_free(doc);
}

static void test_xmldoc__find_walks_children_only(void **state)
{
	struct xmldoc *doc = parse_ok(
		"<r><a><b>1</b></a><a><b>2</b><c>3</c></a><x><a><c>4</c></a></x></r>");
	const struct xmlnode *root = xmldoc_root(doc);

	(void)state;
	/* the first match at each step, no backtracking to a later sibling */
	assert_string_equal(xmldoc_text(root, "a/b"), "1");
	assert_null(xmldoc_find(root, "a/c"));
	assert_null(xmldoc_find(root, "c"));
	assert_null(xmldoc_find(root, "a/b/missing"));
	assert_null(xmldoc_text(root, "nope"));
	assert_string_equal(xmldoc_text(root, "x/a/c"), "4");
	/* empty segments are skipped; an empty path is `from` itself */
	assert_string_equal(xmldoc_text(root, "/x//a/c/"), "4");
	assert_ptr_equal(xmldoc_find(root, ""), root);
	assert_null(xmldoc_find(NULL, "a"));
	xmldoc_free(doc);
}

static void test_xmldoc__search_is_depth_first_below_from(void **state)
{
	struct xmldoc *doc = parse_ok("<r><a><b><k>deep</k></b></a>"
				      "<k>shallow</k><z><y/></z></r>");
	const struct xmlnode *root = xmldoc_root(doc);
	const struct xmlnode *b;

	(void)state;
	assert_string_equal(xmldoc_search(root, "k")->text, "deep");
	/* `from` itself is not a candidate, nor anything outside it */
	assert_null(xmldoc_search(root, "r"));
	b = xmldoc_search(root, "b");
	assert_non_null(b);
	assert_null(xmldoc_search(b, "z"));
	assert_null(xmldoc_search(xmldoc_find(root, "z/y"), "k"));
	assert_string_equal(xmldoc_search(root, "y")->name, "y");
	assert_null(xmldoc_search(root, "missing"));
	xmldoc_free(doc);
}

static void test_xmldoc__malformed_reports_line(void **state)
{
	const char *xml = "<r>\n<a>1</a>\n<b>2</c>\n</r>";
	struct err e;

	(void)state;
	e = parse_bad(xml, strlen(xml));
	assert_contains(e.msg, "invalid XML at line 3: ");
	assert_contains(e.msg, "mismatched tag");

	e = parse_bad("<r></r><again/>", 15);
	assert_contains(e.msg, "invalid XML at line 1: ");
	e = parse_bad("<r>", 3);
	assert_contains(e.msg, "invalid XML at line 1: ");
	e = parse_bad("<r>&nbsp;</r>", 13);
	assert_contains(e.msg, "undefined entity");
}

static void test_xmldoc__billion_laughs_refused(void **state)
{
	const char *xml =
		"<?xml version=\"1.0\"?>\n"
		"<!DOCTYPE lolz [\n"
		" <!ENTITY lol \"lol\">\n"
		" <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
		" <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
		" <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
		" <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
		" <!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n"
		" <!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n"
		" <!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n"
		" <!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n"
		" <!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n"
		"]>\n"
		"<lolz>&lol9;</lolz>\n";
	struct err e;

	(void)state;
	e = parse_bad(xml, strlen(xml));
	/* stopped at the DOCTYPE line, before any entity was declared */
	assert_contains(e.msg, "invalid XML at line 2: ");
	assert_contains(e.msg, "DOCTYPE");
}

static void test_xmldoc__external_entity_refused(void **state)
{
	const char *xml = "<!DOCTYPE r SYSTEM \"file:///etc/passwd\"><r>x</r>";
	const char *bare = "<!DOCTYPE r><r/>";
	struct err e;

	(void)state;
	e = parse_bad(xml, strlen(xml));
	assert_contains(e.msg, "DOCTYPE");
	e = parse_bad(bare, strlen(bare));
	assert_contains(e.msg, "DOCTYPE");
}

static void test_xmldoc__depth_limit(void **state)
{
	char *ok = nested(64);
	char *deep = nested(65);
	struct xmldoc *doc = parse_ok(ok);
	const struct xmlnode *n = xmldoc_root(doc);
	struct err e;
	int depth = 1;

	(void)state;
	while (n->first_child) {
		n = n->first_child;
		depth++;
	}
	assert_int_equal(depth, 64);
	assert_string_equal(n->text, "x");
	xmldoc_free(doc);

	e = parse_bad(deep, strlen(deep));
	assert_contains(e.msg, "deeper than 64");
	free(ok);
	free(deep);
}

static void test_xmldoc__deep_empty_element_past_limit(void **state)
{
	struct buf b = BUF_INIT;
	struct err e;
	int i;

	/* an empty element at the limit: its end comes in the same event */
	(void)state;
	for (i = 0; i < 64; i++)
		buf_puts(&b, "<a>text");
	buf_puts(&b, "<a/>");
	for (i = 0; i < 64; i++)
		buf_puts(&b, "</a>");
	e = parse_bad(b.ptr, b.len);
	assert_contains(e.msg, "deeper than 64");
	buf_release(&b);
}

static void test_xmldoc__element_count_limit(void **state)
{
	struct buf b = BUF_INIT;
	struct xmldoc *doc;
	struct err e;
	int i;

	(void)state;
	buf_puts(&b, "<r>");
	for (i = 0; i < 99999; i++)
		buf_puts(&b, "<i/>");
	buf_puts(&b, "</r>");
	doc = parse_ok(b.ptr);
	assert_string_equal(xmldoc_root(doc)->first_child->name, "i");
	xmldoc_free(doc);

	buf_clear(&b);
	buf_puts(&b, "<r>");
	for (i = 0; i < 100000; i++)
		buf_puts(&b, "<i/>");
	buf_puts(&b, "</r>");
	e = parse_bad(b.ptr, b.len);
	assert_contains(e.msg, "more than 100000 elements");
	buf_release(&b);
}

static void test_xmldoc__size_limit(void **state)
{
	size_t max = 4u * 1024 * 1024;
	char *big = malloc(max + 1);
	struct xmldoc *doc;
	struct err e;

	(void)state;
	assert_non_null(big);
	/* one element full of spaces, one byte over the limit */
	memset(big, ' ', max + 1);
	memcpy(big, "<r>", 3);
	memcpy(big + max + 1 - 4, "</r>", 4);
	e = parse_bad(big, max + 1);
	assert_contains(e.msg, "larger than 4 MiB");

	/* the same, exactly at the limit */
	memcpy(big + max - 4, "</r>", 4);
	doc = parse_ok_len(big, max);
	assert_int_equal(strlen(xmldoc_root(doc)->text), max - 7);
	xmldoc_free(doc);
	free(big);
}

static void test_xmldoc__empty_input(void **state)
{
	struct err e;

	(void)state;
	e = parse_bad("", 0);
	assert_contains(e.msg, "invalid XML at line 1: ");
	e = parse_bad(NULL, 0);
	assert_contains(e.msg, "invalid XML at line 1: ");
	e = parse_bad("  \n ", 4);
	assert_contains(e.msg, "invalid XML at line 2: ");
}

static void test_xmldoc__free_null_is_safe(void **state)
{
	(void)state;
	xmldoc_free(NULL);
	assert_null(xmldoc_root(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xmldoc__get_caller_identity),
		cmocka_unit_test(test_xmldoc__assume_role_credentials),
		cmocka_unit_test(test_xmldoc__query_error_response),
		cmocka_unit_test(test_xmldoc__errors_response_layout),
		cmocka_unit_test(test_xmldoc__sns_publish),
		cmocka_unit_test(test_xmldoc__prefixed_names_are_local),
		cmocka_unit_test(test_xmldoc__entities_are_decoded),
		cmocka_unit_test(test_xmldoc__text_is_direct_character_data),
		cmocka_unit_test(test_xmldoc__find_walks_children_only),
		cmocka_unit_test(test_xmldoc__search_is_depth_first_below_from),
		cmocka_unit_test(test_xmldoc__malformed_reports_line),
		cmocka_unit_test(test_xmldoc__billion_laughs_refused),
		cmocka_unit_test(test_xmldoc__external_entity_refused),
		cmocka_unit_test(test_xmldoc__depth_limit),
		cmocka_unit_test(test_xmldoc__deep_empty_element_past_limit),
		cmocka_unit_test(test_xmldoc__element_count_limit),
		cmocka_unit_test(test_xmldoc__size_limit),
		cmocka_unit_test(test_xmldoc__empty_input),
		cmocka_unit_test(test_xmldoc__free_null_is_safe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

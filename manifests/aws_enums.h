/*
 * Enum values of the AWS APIs, generated from botocore's models into
 * aws_enums.c (scripts/gen-aws-enums.py).
 */
#ifndef SAGESYNC_MANIFESTS_AWS_ENUMS_H
#define SAGESYNC_MANIFESTS_AWS_ENUMS_H

#include <stddef.h>

/* SageMaker ProductionVariantInstanceType */
extern const char *const aws_enums_instance_types[];
extern const size_t aws_enums_instance_types_count;

/* SageMaker ProcessingInstanceType (Model Monitor jobs) */
extern const char *const aws_enums_processing_instance_types[];
extern const size_t aws_enums_processing_instance_types_count;

#endif

/* The AMD SVM backend of the vendor seam (hv/vendor.h). */
#ifndef HVFW_HV_SVM_SVM_H
#define HVFW_HV_SVM_SVM_H

#include "hv/vendor.h"

extern const struct hv_vendor_ops svm_vendor_ops;

#endif

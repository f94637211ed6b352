#include <gtest/gtest.h>
#include "kernel/node_kernel.h"
TEST(Smoke, Builds) { pc::NodeKernel k; EXPECT_FALSE(k.isInitialized()); }

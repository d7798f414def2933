/* stream.c */
#include <config.h>
#include "engine/engine.h"

/* validate.c - the shape of the data module's keys, checked before
 * anything is created: each service's x-itm.data (postgres, redis, or
 * create/drop steps and exports), x-itm.seed and x-itm.verify steps, and
 * the top-level x-itm.secrets. */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "data/priv.h"
#include "stack/stack.h"

static int
validate_kind (const struct stack_service *svc, json_object *spec, struct itm_err *err)
{
  if (json_object_is_type (spec, json_type_string))
    {
      const char *k = json_object_get_string (spec);
      if (strcmp (k, "postgres") == 0 || strcmp (k, "redis") == 0)
        return 0;
      return itm_err_set (err, ITM_EXIT_STACK,
                          "%s: x-itm.data: unknown kind '%s' (postgres, redis, or a map with "
                          "create, drop and exports)", svc->name, k);
    }
  if (!json_object_is_type (spec, json_type_object))
    return itm_err_set (err, ITM_EXIT_STACK, "%s: x-itm.data: expected postgres, redis or a map",
                        svc->name);
  json_object_object_foreach (spec, k, v)
    {
      if (strcmp (k, "exports") == 0)
        {
          if (!json_object_is_type (v, json_type_object))
            return itm_err_set (err, ITM_EXIT_STACK, "%s: x-itm.data.exports: expected a map",
                                svc->name);
          continue;
        }
      if (strcmp (k, "create") != 0 && strcmp (k, "drop") != 0)
        return itm_err_set (err, ITM_EXIT_STACK,
                            "%s: x-itm.data: unknown key '%s' (create, drop, exports)", svc->name,
                            k);
      if (!json_object_is_type (v, json_type_array))
        return itm_err_set (err, ITM_EXIT_STACK, "%s: x-itm.data.%s: expected a list of steps",
                            svc->name, k);
      for (size_t i = 0; i < json_object_array_length (v); i++)
        {
          cleanup_free char *w = xasprintf ("%s: x-itm.data.%s[%zu]", svc->name, k, i);
          json_object *st = json_object_array_get_idx (v, i);
          if (data_step_validate (st, w, NULL, err) < 0)
            return -1;
          if (strcmp (data_step_kind (st), "exec") != 0)
            return itm_err_set (err, ITM_EXIT_STACK, "%s: expected an exec step", w);
        }
    }
  return 0;
}

int
data_validate (const struct stack *st, struct itm_err *err)
{
  for (size_t i = 0; i < st->nservices; i++)
    {
      const struct stack_service *svc = &st->services[i];
      if (svc->x_itm == NULL)
        continue;
      json_object *v = NULL;
      if (json_object_object_get_ex (svc->x_itm, "data", &v) && v
          && validate_kind (svc, v, err) < 0)
        return -1;
      static const char *const vk[] = { "expect", "name", NULL };
      const char *lists[] = { "seed", "verify" };
      for (size_t l = 0; l < 2; l++)
        {
          if (!json_object_object_get_ex (svc->x_itm, lists[l], &v) || v == NULL)
            continue;
          if (!json_object_is_type (v, json_type_array))
            return itm_err_set (err, ITM_EXIT_STACK, "%s: x-itm.%s: expected a list", svc->name,
                                lists[l]);
          for (size_t k = 0; k < json_object_array_length (v); k++)
            {
              cleanup_free char *w = xasprintf ("%s: x-itm.%s[%zu]", svc->name, lists[l], k);
              json_object *s = json_object_array_get_idx (v, k);
              if (data_step_validate (s, w, l ? vk : NULL, err) < 0)
                return -1;
              if (l == 1 && strcmp (data_step_kind (s), "copy") == 0)
                return itm_err_set (err, ITM_EXIT_STACK, "%s: a check is exec, sql or redis", w);
            }
        }
    }
  return data_secrets_validate (st, err);
}

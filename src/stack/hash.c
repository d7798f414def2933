/* hash.c - a service's config hash: SHA-256 of its canonical JSON. */
#include <config.h>

#include <json-c/json.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "stack/stack.h"
#include "util/xalloc.h"

char *
stack_service_hash (const struct stack_service *svc)
{
  struct json_object *o = stack_service_to_json (svc);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  char *hex;

  /* what does not change the container itself */
  json_object_object_del (o, "depends_on");
  json_object_object_del (o, "profiles");
  json_object_object_del (o, "pull_policy");
  const char *s = json_object_to_json_string_ext (o, JSON_C_TO_STRING_PLAIN
                                                       | JSON_C_TO_STRING_NOSLASHESCAPE);
  if (EVP_Digest (s, strlen (s), md, &mdlen, EVP_sha256 (), NULL) != 1)
    oom ();
  hex = xmalloc (2 * mdlen + 1);
  for (unsigned i = 0; i < mdlen; i++)
    sprintf (hex + 2 * i, "%02x", md[i]);
  json_object_put (o);
  return hex;
}

// fulfilctl: talks to the local fulfild over its Unix socket.
#include <curl/curl.h>

#include "ctl_commands.hpp"

int main(int argc, char** argv) {
  fulfil::ctl::Invocation invocation;
  int exit_code = 0;
  if (!fulfil::ctl::parse(argc, argv, invocation, exit_code)) return exit_code;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const int rc = fulfil::ctl::run(invocation);
  curl_global_cleanup();
  return rc;
}

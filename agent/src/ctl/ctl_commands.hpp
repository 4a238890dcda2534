#pragma once
// Internal to fulfilctl: the commands, their options and their help.
#include <map>
#include <string>
#include <vector>

namespace fulfil::ctl {

// Exit codes scripts can rely on (also in `fulfilctl --help`).
enum Exit : int {
  ok = 0,
  refused = 1,      // the agent refused the request (4xx): the message says why; or
                    // what fulfilctl checked or signed itself is not valid (config
                    // validate, config sign, barcode parse)
  usage = 2,        // bad command line
  unreachable = 3,  // no agent on the socket
  agent_error = 4,  // the agent failed (5xx)
};

struct Invocation {
  std::string socket;
  bool json = false;
  std::string command;
  std::vector<std::string> args;             // positional, after the command
  std::map<std::string, std::string> flags;  // --name value (value "1" for switches)
};

int run(const Invocation& invocation);
// Parses argv; on a usage error prints it and returns false with `exit_code` set.
bool parse(int argc, char** argv, Invocation& out, int& exit_code);

}  // namespace fulfil::ctl

#pragma once

// The whole application API of rill in one include: <rill/rill.hpp>. The
// narrower headers below can be included on their own; the ones not listed
// here are rill's internals and are not installed.

#include <rill/actors/callbacks.hpp>
#include <rill/actors/error.hpp>
#include <rill/actors/interfaces.hpp>
#include <rill/actors/metrics.hpp>
#include <rill/actors/options.hpp>
#include <rill/actors/producer.hpp>
#include <rill/actors/redis/command.hpp>
#include <rill/actors/redis/reply.hpp>
#include <rill/actors/stream_entry.hpp>
#include <rill/runtime/callback_registry.hpp>
#include <rill/runtime/config.hpp>
#include <rill/runtime/consumer.hpp>
#include <rill/runtime/logging.hpp>
#include <rill/runtime/node_main.hpp>
#include <rill/runtime/runtime.hpp>
#include <rill/runtime/settings.hpp>

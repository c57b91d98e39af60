#pragma once
// The admin REST API of build on commit under /api/v2/orgs/{org}: jobs (create, list, get,
// update, delete), runs (list with filters, get with a log excerpt, full log, cancel, re-run)
// and deliveries (list, get with the runs they created). Authenticated like the rest of the
// admin API (Bearer api token of the org, or a server admin token); docs/openapi.json
// describes every route.

#include <boost/asio/thread_pool.hpp>

#include "admin/admin_service.hpp"
#include "http/router.hpp"
#include "pipeline/job_runner.hpp"
#include "pipeline/job_service.hpp"

namespace cb::api {

/// Registers the routes. Store work runs on `pool`. `runner`, when given, is told at once when
/// a run is cancelled (otherwise it notices within its cancel poll interval) or re-run.
void add_job_routes(http::Router& router, admin::AdminService& admin, pipeline::JobService& jobs,
                    pipeline::JobRunner* runner, boost::asio::thread_pool& pool);

}  // namespace cb::api

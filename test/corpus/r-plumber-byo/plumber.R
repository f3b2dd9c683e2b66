#' @get /ping
function() { "" }

#' @post /invocations
function(req) { req$postBody }

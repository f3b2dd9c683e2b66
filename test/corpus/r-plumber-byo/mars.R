library(plumber)
prefix <- "/opt/ml"

serve <- function() {
    app <- plumb(paste(prefix, "plumber.R", sep="/"))
    app$run(host="0.0.0.0", port=8080)}

args <- commandArgs()
if (any(grepl("serve", args))) {
    serve()}

package com.acme

import org.eclipse.jetty.server.Server

object Launcher {
  def main(args: Array[String]): Unit = {
    val port = if (System.getenv("SAGEMAKER_BIND_TO_PORT") != null) System.getenv("SAGEMAKER_BIND_TO_PORT").toInt else 8080
    val server = new Server(port)
    server.start()
    server.join()
  }
}

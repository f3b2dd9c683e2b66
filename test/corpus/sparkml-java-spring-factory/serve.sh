#!/bin/bash
java -jar /usr/local/lib/server.jar

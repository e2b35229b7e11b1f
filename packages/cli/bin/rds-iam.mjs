#!/usr/bin/env node
// The bin lives outside dist so that a workspace install can link it before the first build; it
// runs the built CLI.
import '../dist/bin.mjs'

// xen-coreos: a CoreOS container hosting platform on XenServer. See README.md.
import { xenCoreosProgram } from "./components/program";

const outputs = xenCoreosProgram();

export const clusters = outputs.clusters;
export const share = outputs.share;
export const isoRepository = outputs.isoRepository;
export const services = outputs.services;

//! `pedestal state list | show ADDR | rm ADDR | migrate --to s3|local`.

use pedestal::ops::state;
use pedestal::render;

use super::state_request;
use crate::cli::{BackendArg, Error, Exit, Global, MigrateArgs, StateCommand, lock_timeout};

pub fn run(g: &Global, cmd: &StateCommand) -> Result<Exit, Error> {
    match cmd {
        StateCommand::List(env) => {
            for a in state::list(&g.dir, &state_request(env)?)? {
                println!("{a}");
            }
        }
        StateCommand::Show { env, address } => {
            let r = state::show(&g.dir, &state_request(env)?, address)?;
            print!("{}", render::human::state_resource(address, &r));
        }
        StateCommand::Rm { env, address } => {
            let removed = state::rm(&g.dir, &state_request(env)?, address)?;
            for a in &removed {
                println!("Removed {a}");
            }
            println!(
                "Successfully removed {} resource instance(s); the cloud was not touched.",
                removed.len()
            );
        }
        StateCommand::Migrate(a) => migrate(g, a)?,
    }
    Ok(Exit::Success)
}

fn migrate(g: &Global, a: &MigrateArgs) -> Result<(), Error> {
    let mut request = state_request(&a.env)?;
    request.lock_timeout = lock_timeout(&a.lock_timeout)?;
    let m = state::migrate(
        &g.dir,
        &state::MigrateRequest {
            state: request,
            to: match a.to {
                BackendArg::S3 => state::BackendKind::S3,
                BackendArg::Local => state::BackendKind::Local,
            },
            bucket: a.bucket.clone(),
            key: a.key.clone(),
            region: a.region.clone(),
            path: a.path.clone(),
        },
    )?;
    if m.unchanged {
        println!(
            "{} already holds this state (lineage {}, serial {}); nothing was copied.",
            m.to, m.lineage, m.serial
        );
    } else {
        println!(
            "Copied the state from {} to {}: lineage {}, serial {}, {} resource(s).",
            m.from, m.to, m.lineage, m.serial, m.resources
        );
    }
    Ok(())
}
